"""The operators' review of unsure receipts: decisions on review cases, published as receipt adjustments
that the warehouse nets into the books (the console, the queue and the calibration build on this)."""
