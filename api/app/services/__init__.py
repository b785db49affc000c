"""Domain services: every rule lives here, once. Services flush, never commit."""
