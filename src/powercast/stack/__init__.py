"""The local runtime: starts and stops Kafka, PostgreSQL and the services as supervised processes."""
