#!/bin/sh
# Run once by the postgres image when it initialises an empty volume (/docker-entrypoint-initdb.d): the
# application role `powercast` (not a superuser; CREATEROLE because migration 0006 creates Grafana's read-only
# role) and the three databases it owns: powercast, mlflow (MLflow's backend store), airflow (Airflow's metadata).
# A password changed in .env later does not reach an existing volume: ALTER ROLE by hand, or start from a new volume.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v app_password="$POWERCAST_DB_PASSWORD" <<'SQL'
CREATE ROLE powercast LOGIN NOSUPERUSER NOCREATEDB CREATEROLE PASSWORD :'app_password';
CREATE DATABASE powercast OWNER powercast;
CREATE DATABASE mlflow OWNER powercast;
CREATE DATABASE airflow OWNER powercast;
SQL
