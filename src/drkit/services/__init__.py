"""The operations every face (CLI, daemon, REST API, HA agent) calls, over the domains.

A domain never imports this package; it imports the domains.
"""
