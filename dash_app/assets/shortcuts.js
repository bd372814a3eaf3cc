// Keyboard shortcuts of the Review page: 1 = correct, 2-6 = incorrect with a reason, s = skip.
// Keys typed into the comment box (or any input) are left alone; Esc leaves the box.
(function () {
    var KEYS = {
        "1": "review-correct",
        "2": "review-sensor-fault",
        "3": "review-maintenance",
        "4": "review-unusual-operation",
        "5": "review-model-wrong",
        "6": "review-other",
        "s": "review-skip"
    };
    document.addEventListener("keydown", function (event) {
        var target = event.target;
        var typing = target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.isContentEditable);
        if (typing) {
            if (event.key === "Escape") { target.blur(); }
            return;
        }
        if (event.ctrlKey || event.metaKey || event.altKey) { return; }
        var id = KEYS[event.key];
        var button = id && document.getElementById(id);
        if (button) {
            event.preventDefault();
            button.click();
        }
    });
})();
