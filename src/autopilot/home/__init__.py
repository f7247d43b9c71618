"""The start page and the sections still to come (each says plainly what it will hold)."""
