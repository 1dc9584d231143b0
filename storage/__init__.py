"""The log: every report, photo, status call, delivery and audit entry, on SQLite or PostgreSQL.

Open it with `storage.store.Store.open(url)`. Nothing here imports telegram.
"""
