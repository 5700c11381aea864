"""SQL implementation of the stores (SQLite and PostgreSQL through SQLAlchemy)."""
