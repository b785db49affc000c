"""Local AI triage (advisory only): engines, retrieval, knowledge base, worker jobs."""
