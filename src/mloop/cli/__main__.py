"""`python -m mloop.cli`: the same as the `mloop` command."""

from mloop.cli.main import run

run()
