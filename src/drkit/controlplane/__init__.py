"""The control plane in two sites: which `drkit serve` is active, through an etcd lease.

``decide`` is the pure decision (active, standby or fenced, with a sentence
why); ``lease`` is the loop in the serve process that renews the lease and
asks it; ``etcd`` adapts the HA agent's etcd driver to the small store the
loop needs; ``metrics`` shows the role on /metrics.
"""
