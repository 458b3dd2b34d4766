"""The store digital twin, the test rig on top of the stages: shoppers, arrivals, movement, store
operations, faults and ground truth; rendered ceiling clips and filmed store-days for the camera
pipeline; history backfill; and the harnesses that score the checkout against the truth.

Production code never imports it; only the command line and the demo (and tests, benchmarks) do.
"""
