"""The only package that talks to the database (SQLAlchemy Core; SQLite embedded, PostgreSQL server)."""
