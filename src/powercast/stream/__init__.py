"""Event schema, topics and Kafka client helpers."""
