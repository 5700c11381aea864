"""The `mloop` command line: thin typer commands over the stage packages."""
