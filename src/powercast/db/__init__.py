"""PostgreSQL connections and the migration runner."""
