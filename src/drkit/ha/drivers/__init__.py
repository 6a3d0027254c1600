"""The HA drivers: one kind per folder (dcs, database, loadbalancer, dns, compute).

Each kind has ``base.py`` (the small interface with its contracts), one module
per driver declaring its ``PLUGIN``, ``registry.py`` listing them, and a memory
driver for unit tests. Every driver raises only :mod:`drkit.ha.drivers.errors`.
"""
