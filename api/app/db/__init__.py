"""Database access: metadata, engine and session, the embedded PostgreSQL for development."""
