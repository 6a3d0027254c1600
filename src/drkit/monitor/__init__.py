"""Monitoring: what the repositories hold, RPO/RTO and 3-2-1 per source, alert rules, metrics."""
