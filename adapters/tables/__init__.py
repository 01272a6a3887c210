"""This service's own tables, beside the event store in the same database: one module per
table family (see `base` for how one SQL text serves SQLite and PostgreSQL)."""
