"""Implicit-feedback recommendations, their offline evaluation and the ad-screen HTTP API.

implicit trains with its own threads and asks BLAS to stay single-threaded (a BLAS thread pool
inside each of its threads makes training many times slower). The variable only counts before
numpy loads OpenBLAS, so it is set when this package is first imported; :mod:`recsys.train` also
limits BLAS around every fit, for processes that loaded numpy earlier.
"""

import os

from walkout.errors import WalkoutError

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


class RecsysError(WalkoutError):
    """Recommendations cannot be trained, evaluated or served as asked; the message says why."""
