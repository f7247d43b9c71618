"""Shared plumbing: database, errors, time, crypto, logging."""
