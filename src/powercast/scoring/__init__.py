"""The registered model: a fitted forecaster behind MLflow's pyfunc interface, scored from raw readings."""
