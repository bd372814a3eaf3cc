"""Metrics, the training pipeline, MLflow tracking and registration, champion/challenger promotion."""
