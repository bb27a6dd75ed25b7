"""Benchmarks (not tests: run by ``make bench`` / ``tests/benchmarks/run_all.py``)."""
