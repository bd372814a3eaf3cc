"""Cross-validation, metrics and the training pipeline."""
