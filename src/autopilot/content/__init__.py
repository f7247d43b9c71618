"""Content: what an author writes, its approval, and its publication (through a connected integration)."""
