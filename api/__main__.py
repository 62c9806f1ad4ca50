"""``python -m api`` runs the ``xunqin`` command line."""

from api.cli import main

main()
