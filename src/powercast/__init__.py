"""powercast: watches industrial machines and forecasts their power consumption 15 minutes ahead."""

__version__ = "0.1.0"
