"""The checkout's one exception: the CLI turns it into one line and a non-zero exit."""

from walkout.errors import WalkoutError


class CheckoutError(WalkoutError):
    """The checkout service cannot run as configured, or cannot use its state snapshot."""
