"""``python -m walkout`` is the ``walkout`` command."""

from walkout.cli import main

main()
