"""Storage: SQLModel tables, the async engine and session, Alembic migrations and the importer."""
