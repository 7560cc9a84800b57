"""Benchmark harness for pesabox: `python -m bench.run` (see docs/benchmark.md)."""
