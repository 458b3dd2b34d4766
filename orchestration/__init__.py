"""Dagster definitions: lake, dbt, forecast and recsys assets, checks, sensors and schedules."""
