"""Operators, their logins and their labels on forecasts.

`users` (accounts, Argon2id password hashes, role checks), `sessions` (login sessions that expire), `store`
(labels on matured forecasts with their history, the review queue, the operator-rejected rate). This package sits
beside features/ingest/simulator: it reads and writes PostgreSQL and knows nothing of models or of the UI.
"""
