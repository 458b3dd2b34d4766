"""Realtime side: the checkout service (fusion, virtual carts, receipts) and the lander (topics to lake)."""
