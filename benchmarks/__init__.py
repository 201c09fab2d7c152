"""Benchmarks: ``python -m benchmarks`` (or ``make bench``) prints its figures."""
