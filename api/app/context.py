"""Per-request facts every layer may need (request id, client ip) without threading them through
every signature: set by the request middleware, read by audit and logging."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
client_ip_var: ContextVar[str | None] = ContextVar("client_ip", default=None)
# Number of SQL statements the current request ran (logged with the request; benchmarked).
statement_count_var: ContextVar[list[int] | None] = ContextVar("statement_count", default=None)
