"""The ``walkout`` command line and the demo: on top of every stage and the twin; nothing imports them.

``python -m walkout`` (``walkout/__main__.py``) and the ``walkout`` script both run :func:`cli.app.main`.
"""
