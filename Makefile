# The two commands: `make up` brings the local system up, `make test` runs the whole test suite.
# Both install what they need first (Python 3.11 virtual environment in .venv, Kafka's jars).

.PHONY: up down status test bootstrap lock

bootstrap:
	@bash scripts/bootstrap.sh

up: bootstrap
	.venv/bin/powercast up

down:
	.venv/bin/powercast down

status:
	.venv/bin/powercast status

test: bootstrap
	.venv/bin/powercast kafka fetch
	.venv/bin/python -m pytest $(PYTEST_ARGS)

lock:
	bash scripts/lock.sh
