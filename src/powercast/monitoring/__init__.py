"""Monitoring: drift reports (Evidently), the quality of matured forecasts, alerts received."""
