"""``python -m earlylink`` runs the CLI."""

from earlylink.cli import main

main()
