"""The app servers of a site: start, stop, status."""
