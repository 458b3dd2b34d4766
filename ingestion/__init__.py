"""Store edge: QR speed gate, shelf weight plates, the store gateway and cameras."""
