"""Benchmarks: run with `make bench`; each prints its figures and the machine's load."""

from pathlib import Path

SIGHTINGS = Path(__file__).resolve().parent / "data" / "sightings.tsv"
"""Realistic sighting texts (category, urgency, text), carried in the repository: see data/."""
