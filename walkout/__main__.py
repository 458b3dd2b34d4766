"""``python -m walkout`` is the ``walkout`` command."""

from cli.app import main

main()
