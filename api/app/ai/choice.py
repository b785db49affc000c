"""Which triage engine runs on this host (``ATUM_AI_ENGINE``, "auto" resolved). NumPy-free:
the API processes read the engine's name from here and never load a model."""

from __future__ import annotations

from app.ai import model_files
from app.config import Settings


def resolved_engine_name(settings: Settings) -> str:
    """What ``ATUM_AI_ENGINE`` means on this host ("auto" resolved)."""
    if settings.ai_engine != "auto":
        return settings.ai_engine
    if settings.ollama_url:
        return "ollama"
    return "local" if model_files.installed() else "lexical"


def configured_engine_name(settings: Settings) -> str:
    name = resolved_engine_name(settings)
    if name == "ollama" and not settings.ollama_url:
        name = "local"
    if name == "local" and not model_files.installed():
        return "lexical"
    return name
