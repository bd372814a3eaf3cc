"""Every component id of the control center, defined once (layouts, callbacks, shortcuts.js and tests use these)."""

# Shell
URL = "url"
PAGE = "page"
NAV = "nav"
WHO = "who"

# Fleet
FLEET_INTERVAL = "fleet-interval"
FLEET_COUNTS = "fleet-counts"
FLEET_TABLE = "fleet-table"
FLEET_STATE = "fleet-state-filter"
FLEET_SEARCH = "fleet-search"
FLEET_PREV = "fleet-prev"
FLEET_NEXT = "fleet-next"
FLEET_PAGE = "fleet-page"
FLEET_PAGES = "fleet-pages"
FLEET_PAGE_LABEL = "fleet-page-label"
FLEET_UPDATED = "fleet-updated"

# Machine
MACHINE_SELECT = "machine-select"
MACHINE_RANGE = "machine-range"
MACHINE_GRAPH = "machine-graph"
MACHINE_VERSIONS = "machine-versions"
MACHINE_SUMMARY = "machine-summary"
MACHINE_INTERVAL = "machine-interval"

# Review
REVIEW_INTERVAL = "review-interval"
REVIEW_QUEUE = "review-queue"
REVIEW_QUEUE_DATA = "review-queue-data"
REVIEW_RECENT = "review-recent"
REVIEW_SELECTED = "review-selected"
REVIEW_SAVED = "review-saved"
REVIEW_GRAPH = "review-graph"
REVIEW_INFO = "review-info"
REVIEW_HISTORY = "review-history"
REVIEW_COMMENT = "review-comment"
REVIEW_MESSAGE = "review-message"
REVIEW_CORRECT = "review-correct"
REVIEW_REASON_BUTTONS = {  # reason -> button id; keys 2..6 in shortcuts.js follow this order
    "sensor_fault": "review-sensor-fault",
    "maintenance": "review-maintenance",
    "unusual_operation": "review-unusual-operation",
    "model_wrong": "review-model-wrong",
    "other": "review-other",
}
REVIEW_SKIP = "review-skip"
QUEUE_ITEM = "review-queue-item"  # pattern-matching type
RECENT_ITEM = "review-recent-item"  # pattern-matching type

# Models
MODELS_INTERVAL = "models-interval"
MODELS_CARDS = "models-cards"
MODELS_QUALITY = "models-quality"
MODELS_REJECTED = "models-rejected"
MODELS_HISTORY = "models-history"
MODELS_TRAIN = "models-train"
MODELS_PROMOTE = "models-promote"
MODELS_ROLLBACK = "models-rollback"
MODELS_ACTION_MESSAGE = "models-action-message"
MODELS_RUN = "models-run"
MODELS_RUN_INTERVAL = "models-run-interval"
MODELS_RUN_STATE = "models-run-state"
