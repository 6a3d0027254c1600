"""Cron schedules and the daemon loop that starts runs (`drkit serve`)."""
