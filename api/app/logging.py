"""Structured logs: one JSON object per line, with the request id, and user input that can never
forge a second line (JSON escapes CR/LF; the console renderer gets them escaped explicitly)."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from app.context import client_ip_var, request_id_var

_SECRET_KEYS = {"password", "password_hash", "token", "access_token", "authorization", "secret"}


def _add_request_context(_: Any, __: str, event: MutableMapping[str, Any]) -> Any:
    rid = request_id_var.get()
    if rid is not None:
        event.setdefault("request_id", rid)
    return event


def _scrub(_: Any, __: str, event: MutableMapping[str, Any]) -> Any:
    for key in list(event):
        if key.lower() in _SECRET_KEYS:
            event[key] = "[redacted]"
        elif isinstance(event[key], str):
            value: str = event[key]
            if any(ord(c) < 32 or ord(c) == 127 for c in value):
                event[key] = value.encode("unicode_escape").decode("ascii")
    return event


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _add_request_context,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _scrub,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")


__all__ = ["client_ip_var", "configure_logging", "request_id_var"]
