#!/bin/sh
# The init job of docker-compose.yml (`init`): every step is safe to repeat, and every later service waits for
# it to finish. In production (POWERCAST_DEPLOYMENT=production) it first refuses the development secrets.
set -eu
python /app/docker/check_secrets.py
powercast db migrate
powercast kafka topics
powercast alerts grafana-password
printf '%s\n' "$POWERCAST_ADMIN_PASSWORD" | powercast users add "$POWERCAST_ADMIN_USER" --role admin --password-stdin --replace
