"""The load balancer in front of a site's database or apps (HAProxy)."""
