"""Persistence: SQLAlchemy 2 async models, engine/session set-up and Alembic migrations."""
