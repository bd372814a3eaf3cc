"""The data source and the dashboard provider, read by Grafana at start from `grafana/provisioning/`.

Grafana fills `${NAME}` from its own environment: the database's host:port and name, the read-only role's
password (POWERCAST_GRAFANA_DB_PASSWORD, the setting `powercast alerts grafana-password` sets it from), and
GF_PATHS_PROVISIONING (set by Grafana's container image; set it to this folder when running Grafana directly).
"""

from __future__ import annotations

from powercast.names import GRAFANA_ROLE

DATASOURCE_UID = "powercast-postgres"
DATASOURCE_TYPE = "grafana-postgresql-datasource"
DASHBOARDS_FOLDER = "powercast"


def datasource_file() -> dict:
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "powercast",
                "uid": DATASOURCE_UID,
                "type": DATASOURCE_TYPE,
                "access": "proxy",
                "url": "${POWERCAST_GRAFANA_DB_HOST}",
                "user": GRAFANA_ROLE,
                "isDefault": True,
                "editable": False,
                "jsonData": {
                    "database": "${POWERCAST_GRAFANA_DB_NAME}",
                    "sslmode": "disable",
                    "postgresVersion": 1500,
                    "timescaledb": False,
                    "maxOpenConns": 10,
                    "maxIdleConns": 5,
                    "connMaxLifetime": 14400,
                    "timeInterval": "10s",
                },
                "secureJsonData": {"password": "${POWERCAST_GRAFANA_DB_PASSWORD}"},
            }
        ],
    }


def dashboard_provider_file() -> dict:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "powercast",
                "orgId": 1,
                "folder": DASHBOARDS_FOLDER,
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {
                    "path": "${GF_PATHS_PROVISIONING}/dashboards/powercast",
                    "foldersFromFilesStructure": False,
                },
            }
        ],
    }
