"""Alembic migrations of the log, shipped inside the package so `pip install` carries them."""
