"""Authentication (passwords, tokens, the current user) and authorization (the permission table)."""
