"""Benchmarks: run with `make bench`; each prints its figures and the machine's load."""
