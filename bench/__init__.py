"""Benchmarks (not run in CI) and the synthetic organisation generator."""
