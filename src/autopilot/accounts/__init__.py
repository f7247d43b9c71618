"""Organizations, users, memberships with roles, sessions and API tokens."""
