"""The `drkit` command line: thin Typer commands over the domain packages."""
