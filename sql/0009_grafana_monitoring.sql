-- Grafana reads the monitoring tables too: the fleet's error by horizon step comes from the scored forecasts
-- (forecast_quality, written by the forecast_quality job) instead of joining forecasts with features_1m, and the
-- pipeline dashboard lists the drift checks. The read-only role keeps exactly the tables its queries read.
GRANT SELECT ON drift_reports, forecast_quality TO powercast_grafana;
REVOKE SELECT ON features_1m FROM powercast_grafana;
