"""The forecasting area's one exception: the CLI turns it into one line and exit code 1."""

from walkout.errors import WalkoutError


class ForecastError(WalkoutError):
    """Sales, history or policy that forecasting cannot use; the message says what to change."""
