"""The checkout service: sensor fusion, virtual carts and receipts on exit."""
