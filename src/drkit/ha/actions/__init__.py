"""Runbook actions over the HA drivers: DNS (RFC 2136), the load balancer, the inventory's LB.

They implement :mod:`drkit.runbooks`' action interface and live here, beside
the drivers they call, so the runbook engine never imports the ha domain: the
action registry names these modules by string (a plugin list, like entry
points) and imports them when an action is looked up.
"""
