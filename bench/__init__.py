"""Benchmarks, run on demand (README, Benchmarks); not part of the installed package."""
