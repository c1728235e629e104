"""``python -m cli`` runs the same command line as ``drive-assist``."""

from cli.main import main

main()
