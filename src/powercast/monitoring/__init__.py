"""Monitoring: what the running system is telling its operators.

`alerts` parses and stores the notifications Grafana's webhook contact point delivers (the `alerts` table),
`alerts_app` serves that webhook over HTTP (`powercast alerts serve`), `alerts_role` sets the password of the
read-only role Grafana's data source logs in as.
"""
