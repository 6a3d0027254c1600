"""The database a site runs (PostgreSQL): probe, promote, fence, rejoin."""
