"""Store edge: QR speed gate, shelf weight plates, cameras and the store simulator (digital twin)."""
