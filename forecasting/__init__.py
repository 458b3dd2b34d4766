"""Demand forecasts, backtests and reorder suggestions."""
