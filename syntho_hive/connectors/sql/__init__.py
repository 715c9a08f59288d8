"""SQL databases (SQLite, PostgreSQL, MySQL/MariaDB, DuckDB) through SQLAlchemy.

Nothing here imports SQLAlchemy at import time: the modules import it (and the database driver)
when a connector is first used, so a missing extra is reported then, with the ``pip install`` to run.
"""
