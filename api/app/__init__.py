"""ATUM DESK API: a self-hosted helpdesk."""
