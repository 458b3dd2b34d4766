"""walkout: the shared spine (settings, event contracts, store catalog, Kafka, CLI)."""

__version__ = "0.1.0"
