"""Benchmarks of what users feel, each against the baseline they would otherwise use.

Run ``python -m bench`` (or ``make bench``); see ``bench/__main__.py`` for the options and
BENCHMARKS.md for the recorded figures.
"""
