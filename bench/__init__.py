"""Benchmarks of Artist Desktop on real services: `python -m bench [--quick] [--json] [NAME...]` runs them.

Each benchmark is a module with ``run(quick) -> Result`` and its own ``python -m bench.<name>`` entry;
`bench/__main__.py` runs each one in a fresh process (so memory and Qt state never leak between them).
"""

BENCHMARKS = ("progress_latency", "smoothness", "quota", "batch_import", "memory_startup", "refresh_sources")

__all__ = ["BENCHMARKS"]
