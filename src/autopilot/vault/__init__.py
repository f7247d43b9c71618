"""Secrets at rest: named, per-organization, encrypted with the key ring."""
