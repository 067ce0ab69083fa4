"""Alembic environment. Run programmatically by :func:`lodeline.store.engine.upgrade` (``upgrade heads``)."""

from __future__ import annotations

from alembic import context

from lodeline.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via lodeline.store.engine.upgrade
    raise RuntimeError("run migrations through lodeline.store.engine.upgrade()")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
