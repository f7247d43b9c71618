"""Helpers for tests: databases, servers, processes. Nothing here replaces our own code."""
