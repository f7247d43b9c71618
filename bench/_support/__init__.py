"""Shared pieces of the HTTP benchmarks: load drivers, health probes, the empty endpoint."""
