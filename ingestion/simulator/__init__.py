"""The store digital twin: shoppers, arrivals, movement, store operations, faults and ground truth."""
