"""The anomaly kinds, without the numerics behind them (so the CLI can list them without importing numpy)."""

KINDS = ("overheating", "bearing_wear", "power_spike", "stuck_sensor", "dropout", "malformed")
