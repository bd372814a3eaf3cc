"""The control center in a real headless Chromium against the real database: log in, watch the fleet, open a
machine, label forecasts and change a label, and the server-side checks (logged out, operator vs admin)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.wait import WebDriverWait

from dash_app import ids
from dash_app.data.review import parse_key
from powercast.db.connection import connect
from powercast.feedback.store import Label, record_label
from powercast.feedback.users import authenticate
from tests.ui.conftest import USERS

TIMEOUT = 20


def wait_for(predicate, timeout: float = TIMEOUT, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:  # elements appear and re-render while Dash updates
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def text_of(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def submit_login(driver) -> str:
    """Submit the login form and return the error the page it loads shows (the form posts and a new page loads:
    the old page's elements go stale first, so the error read is the new page's)."""
    button = driver.find_element(By.ID, "login-submit")
    button.click()
    WebDriverWait(driver, TIMEOUT).until(staleness_of(button))
    return wait_for(lambda: text_of(driver, "login-error"), what="the login error")


def login(driver, base: str, name: str) -> None:
    driver.get(f"{base}/logout")
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(USERS[name][1])
    driver.find_element(By.ID, "login-submit").click()
    wait_for(lambda: f"{name} · {USERS[name][0]}" in text_of(driver, ids.WHO), what="the logged-in shell")


def session_cookie(base: str, name: str) -> str:
    """Log in over plain HTTP (no browser) and return the session cookie header."""
    data = urllib.parse.urlencode({"username": name, "password": USERS[name][1], "next": "/"}).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(f"{base}/login", data=data, timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302, exc.code
        return exc.headers["Set-Cookie"].split(";", 1)[0]
    raise AssertionError("login did not redirect")


def post_callback(base: str, payload: dict, cookie: str | None = None) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    request = urllib.request.Request(
        f"{base}/_dash-update-component", data=json.dumps(payload).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


TRAIN_CALLBACK = {
    "output": f"..{ids.MODELS_ACTION_MESSAGE}.children...{ids.MODELS_RUN}.data...{ids.MODELS_RUN_INTERVAL}.disabled..",
    "outputs": [
        {"id": ids.MODELS_ACTION_MESSAGE, "property": "children"},
        {"id": ids.MODELS_RUN, "property": "data"},
        {"id": ids.MODELS_RUN_INTERVAL, "property": "disabled"},
    ],
    "inputs": [
        {"id": ids.MODELS_TRAIN, "property": "n_clicks", "value": 1},
        {"id": ids.MODELS_PROMOTE, "property": "n_clicks", "value": None},
        {"id": f"{ids.MODELS_ROLLBACK}-confirm", "property": "submit_n_clicks", "value": None},
    ],
    "changedPropIds": [f"{ids.MODELS_TRAIN}.n_clicks"],
    "state": [],
}


def labels_of(settings, machine_id: str, issue_ts) -> list[tuple]:
    conn = connect(settings.app_database_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT verdict, reason, comment, labelled_by, superseded_at IS NOT NULL FROM forecast_feedback "
                "WHERE machine_id = %s AND issue_ts = %s ORDER BY id",
                (machine_id, issue_ts),
            )
            return cur.fetchall()
    finally:
        conn.close()


def test_logged_out_requests_get_nothing(control_center):
    base, _, _ = control_center
    for path in ("/", "/review", "/models"):
        request = urllib.request.Request(f"{base}{path}")
        opener = urllib.request.build_opener(
            type("NoRedirect", (urllib.request.HTTPRedirectHandler,), {"redirect_request": lambda self, *a, **k: None})
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(request, timeout=10)
        assert refused.value.code == 302 and refused.value.headers["Location"].startswith("/login")
    for path in ("/_dash-layout", "/_dash-dependencies"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}{path}", timeout=10)
        assert refused.value.code == 401
    status, body = post_callback(base, TRAIN_CALLBACK)
    assert status == 401 and "login required" in body and "Only admins" not in body


def test_a_wrong_password_gets_a_plain_message(control_center, browser, screenshot):
    base, _, _ = control_center
    browser.get(f"{base}/logout")
    browser.find_element(By.ID, "username").send_keys("olga")
    browser.find_element(By.ID, "password").send_keys("not her password")
    assert submit_login(browser) == "Wrong user name or password."
    browser.find_element(By.ID, "username").clear()
    browser.find_element(By.ID, "username").send_keys("nobody")
    browser.find_element(By.ID, "password").send_keys("staple gun 42")
    assert submit_login(browser) == "Wrong user name or password."
    screenshot(browser, "login")


def test_fleet_shows_every_machine_and_refreshes_in_place(control_center, browser, screenshot):
    base, _, fleet = control_center
    login(browser, base, "olga")
    browser.get(f"{base}/")
    table = wait_for(lambda: all(m in text_of(browser, ids.FLEET_TABLE) for m in fleet.machines), what="the fleet")
    assert table
    rows = {
        r.find_element(By.TAG_NAME, "a").text: r.text for r in browser.find_elements(By.CSS_SELECTOR, ".fleet tbody tr")
    }
    assert "alarm" in rows[fleet.alarm] and "temperature" in rows[fleet.alarm]
    assert "stale" in rows[fleet.stale] and "no reading for" in rows[fleet.stale]
    assert "idle" in rows[fleet.idle]
    assert browser.find_elements(By.CSS_SELECTOR, ".fleet img.spark")
    browser.execute_script("window.__notReloaded = 42;")
    before = text_of(browser, ids.FLEET_UPDATED)
    wait_for(lambda: text_of(browser, ids.FLEET_UPDATED) != before, timeout=15, what="a live refresh")
    assert browser.execute_script("return window.__notReloaded;") == 42
    screenshot(browser, "fleet")


def test_machine_page_shows_the_forecast_band_and_versions(control_center, browser, screenshot):
    base, _, fleet = control_center
    login(browser, base, "olga")
    machine = fleet.machines[1]
    browser.get(f"{base}/machine?id={machine}")
    legend = wait_for(
        lambda: browser.find_element(By.ID, ids.MACHINE_GRAPH).find_elements(By.CSS_SELECTOR, ".legendtext"),
        what="the machine graph",
    )
    names = " | ".join(e.text for e in legend)
    assert "10-90 % band (current)" in names and "forecast issued" in names and "by v2" in names
    assert {"temperature", "vibration", "pressure"} <= set(names.split(" | "))
    assert "forecast issued 15 min ago: MAE" in text_of(browser, ids.MACHINE_SUMMARY)
    versions = wait_for(lambda: text_of(browser, ids.MACHINE_VERSIONS), what="the version table")
    assert "v1" in versions and "v2" in versions
    screenshot(browser, "machine")


def test_label_a_forecast_then_change_it(control_center, browser, screenshot):
    base, settings, _ = control_center
    login(browser, base, "olga")
    browser.get(f"{base}/review")
    key = wait_for(lambda: browser.find_element(By.ID, "review-key").get_attribute("data-key"), what="a forecast")
    machine_id, issue_ts = parse_key(key)
    assert labels_of(settings, machine_id, issue_ts) == []

    comment = browser.find_element(By.ID, ids.REVIEW_COMMENT)
    comment.click()
    comment.send_keys("load jumped after the tool change", Keys.ESCAPE)
    ActionChains(browser).send_keys("5").perform()  # 5 = incorrect: model wrong
    saved = wait_for(lambda: labels_of(settings, machine_id, issue_ts), what="the label in PostgreSQL")
    assert saved == [("incorrect", "model_wrong", "load jumped after the tool change", "olga", False)]
    next_key = wait_for(
        lambda: (k := browser.find_element(By.ID, "review-key").get_attribute("data-key")) != key and k,
        what="the next forecast",
    )
    assert next_key != key

    def recent_item():
        for item in browser.find_elements(By.CSS_SELECTOR, f"#{ids.REVIEW_RECENT} button.item"):
            if json.loads(item.get_attribute("id"))["key"] == key:
                return item
        return None

    wait_for(recent_item, what="the label among the recent ones").click()
    wait_for(lambda: browser.find_element(By.ID, "review-key").get_attribute("data-key") == key, what="reselection")
    ActionChains(browser).send_keys("1").perform()  # 1 = correct
    history = wait_for(
        lambda: len(labels_of(settings, machine_id, issue_ts)) == 2 and labels_of(settings, machine_id, issue_ts)
    )
    assert history == [
        ("incorrect", "model_wrong", "load jumped after the tool change", "olga", True),
        ("correct", None, "", "olga", False),
    ]
    shown = wait_for(
        lambda: "superseded" in text_of(browser, ids.REVIEW_HISTORY) and text_of(browser, ids.REVIEW_HISTORY)
    )
    assert "current" in shown and "model wrong" in shown
    assert "label: correct by olga" in text_of(browser, ids.REVIEW_INFO)
    screenshot(browser, "review")


def test_an_operator_cannot_start_training(control_center, browser):
    base, _, _ = control_center
    login(browser, base, "olga")
    browser.get(f"{base}/models")
    wait_for(lambda: browser.find_element(By.ID, ids.MODELS_TRAIN)).click()
    message = wait_for(lambda: text_of(browser, ids.MODELS_ACTION_MESSAGE), what="the refusal")
    assert "Only admins may train" in message
    # the same callback called directly, without the page: refused on the server
    status, body = post_callback(base, TRAIN_CALLBACK, session_cookie(base, "olga"))
    assert status == 200 and "Only admins may train" in body and "dag_run_id" not in body


def test_an_admin_sees_models_and_is_told_airflow_is_down(control_center, browser, screenshot):
    base, settings, fleet = control_center
    conn = connect(settings.app_database_url)
    try:
        admin = authenticate(conn, "ada", USERS["ada"][1])
        for issue in fleet.issue_times[:3]:
            record_label(conn, admin, fleet.machines[0], issue, Label("incorrect", "sensor_fault"))
    finally:
        conn.close()
    login(browser, base, "ada")
    browser.get(f"{base}/models")
    cards = wait_for(lambda: "champion" in text_of(browser, ids.MODELS_CARDS) and text_of(browser, ids.MODELS_CARDS))
    assert "v1" in cards and "challenger" in cards and "v2" in cards
    assert "first champion" in wait_for(lambda: text_of(browser, ids.MODELS_HISTORY))
    assert "v1" in wait_for(
        lambda: "%" in text_of(browser, ids.MODELS_REJECTED) and text_of(browser, ids.MODELS_REJECTED)
    )
    browser.find_element(By.ID, ids.MODELS_TRAIN).click()
    message = wait_for(lambda: text_of(browser, ids.MODELS_ACTION_MESSAGE), what="the Airflow message")
    assert "Airflow is not available" in message and "does not answer" in message and "powercast train" in message
    screenshot(browser, "models")
