"""Implicit-feedback recommendations, their offline evaluation and the ad-screen HTTP API."""
