#!/usr/bin/env bash
# The init job of Airflow in docker-compose.yml (`airflow-init`): Airflow's metadata schema, then the admin's
# password in the simple auth manager's file (the API server reads it; the control center logs in with it).
set -euo pipefail
airflow db migrate
python - <<'PY'
import json
import os

path = os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
with open(path, "w", encoding="utf-8") as out:
    json.dump({os.environ["POWERCAST_AIRFLOW_USERNAME"]: os.environ["POWERCAST_AIRFLOW_ADMIN_PASSWORD"]}, out)
os.chmod(path, 0o600)
PY
