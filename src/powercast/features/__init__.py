"""Features: minute aggregates of readings, derived features from one FeatureSpec, sliding windows."""
