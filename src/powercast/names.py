"""Names shared across the system: topics, consumer groups, tables, registry names. Defined once here."""

READINGS_TOPIC = "sensor.readings"
DLQ_TOPIC = "sensor.readings.dlq"
READINGS_TOPIC_PARTITIONS = 6
DLQ_TOPIC_PARTITIONS = 1

INGESTOR_GROUP = "powercast-ingestor"

MACHINES_TABLE = "machines"
READINGS_TABLE = "readings"
LATEST_READINGS_TABLE = "latest_readings"  # newest reading per machine and sensor, kept by triggers on readings
DEAD_LETTERS_TABLE = "dead_letters"
MIGRATIONS_TABLE = "schema_migrations"

REGISTERED_MODEL = "powercast-forecaster"
CHAMPION_ALIAS = "champion"
CHALLENGER_ALIAS = "challenger"
PREVIOUS_CHAMPION_ALIAS = "previous-champion"

# Database names on the embedded server: one for the product, one each for MLflow's and Airflow's metadata.
APP_DATABASE = "powercast"
MLFLOW_DATABASE = "mlflow"
MLFLOW_AUTH_DATABASE = "mlflow_auth"  # users and permissions of MLflow's basic-auth app
AIRFLOW_DATABASE = "airflow"

# Features
FEATURES_TABLE = "features_1m"
FEATURE_SNAPSHOTS_TABLE = "feature_snapshots"

# MLOps: promotion decisions, issued forecasts, MLflow experiment
MODEL_PROMOTIONS_TABLE = "model_promotions"
MODEL_DIGESTS_TABLE = "model_digests"  # artifact digest of each version training registered
CHAMPION_HISTORY_VIEW = "champion_history"
FORECASTS_TABLE = "forecasts"
FORECAST_SERVING_HISTORY_VIEW = "forecast_serving_history"
MLFLOW_EXPERIMENT = "powercast-forecasting"

# Monitoring: drift reports, matured-forecast quality, the MLflow experiment holding the HTML reports
DRIFT_REPORTS_TABLE = "drift_reports"
FORECAST_QUALITY_TABLE = "forecast_quality"
MONITORING_EXPERIMENT = "powercast-monitoring"

# Grafana and alerts: the read-only role Grafana connects as, the per-type sensor limits its dashboards and
# alert rules share, and the alerts Grafana's webhook delivered
GRAFANA_ROLE = "powercast_grafana"
MACHINE_TYPE_LIMITS_TABLE = "machine_type_limits"
ALERTS_TABLE = "alerts"

# The control center: users, their sessions and their labels on forecasts
USERS_TABLE = "users"
USER_SESSIONS_TABLE = "user_sessions"
FORECAST_FEEDBACK_TABLE = "forecast_feedback"
ROLES = ("operator", "admin")
VERDICTS = ("correct", "incorrect")
FEEDBACK_REASONS = ("sensor_fault", "maintenance", "unusual_operation", "model_wrong", "other")
EXCLUDING_REASONS = ("sensor_fault", "maintenance")  # incorrect for these: the window's minutes are not targets
UPWEIGHTING_REASONS = ("model_wrong",)  # incorrect for these: the window's minutes weigh more in training

# Airflow DAG ids the control center starts
TRAIN_DAG_ID = "train_models"
PROMOTE_DAG_ID = "promote_model"
