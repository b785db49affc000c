"""ASGI middleware (plain ASGI, no per-request task overhead)."""
