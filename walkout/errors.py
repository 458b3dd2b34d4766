"""The root of walkout's exceptions: the CLI turns any of them into one line and a non-zero exit."""


class WalkoutError(Exception):
    """A problem the user can act on; its message says what was wrong and what to do."""
