"""Dagster definitions by area, merged in :mod:`orchestration.definitions`."""
