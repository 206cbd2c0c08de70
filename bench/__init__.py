"""Reproducible benchmarks, each with its own data generator and throwaway database."""
