"""Forecasters behind one interface: baselines, XGBoost and an LSTM."""
