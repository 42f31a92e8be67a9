"""The domain layer: values and pure rules (requests, results, limits, events, policies, prices).

It imports nothing else of the package and does no I/O beyond reading a local image file.
"""
