"""Load benchmarks of the gateway, run by ``make bench`` (``python -m benchmarks.run``)."""
