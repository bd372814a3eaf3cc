"""Generates powercast's Grafana provisioning (dashboards, alert rules, data source) from one place.

`queries` holds every SQL query the dashboards and alert rules run, with the columns each must return;
`dashboards` builds the dashboards with Grafana's foundation SDK; `alerting` the alert rules, contact point and
notification policy; `provisioning` the data source and dashboard provider. `python -m grafana.generator`
writes them all under `grafana/provisioning/`; `macros` expands Grafana's PostgreSQL macros the way its data
source does, for the checks and the benchmark that run these queries without Grafana.
"""
