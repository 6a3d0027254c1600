"""Health checks: http, tcp, sql and command probes, and the rise/fall state machine."""
