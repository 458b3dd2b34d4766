"""walkout: the shared spine (settings, event contracts, store catalog, Kafka), below every stage.

The command line and the demo sit on top, in ``cli``; ``python -m walkout`` runs it.
"""

__version__ = "0.1.0"
