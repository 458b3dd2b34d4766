"""The ad-screen HTTP API: who stands at a screen now, what to show them, and every impression to Kafka.

A reader: it loads the published warehouse and the model artifacts (reloading each new version),
follows the live streams, and never writes to the warehouse or trains anything.
"""
