"""Benchmarks that print ratios measured side by side: run each as `python -m benchmarks.NAME --help`."""
