"""What is protected besides plain files: databases (PostgreSQL, MariaDB, SQLite, Redis).

One module per driver, each with its typed config model; ``base.py`` holds the
Source interface and its contracts, ``registry.py`` the explicit list of
drivers (``type: postgres`` in drkit.yaml picks one). The package's own
``__init__`` imports nothing, so loading one driver never loads the others.
"""
