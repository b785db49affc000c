"""A minimal client of Ollama's HTTP API (``/api/chat`` with a JSON schema, ``/api/embed``) and
the strict schema an LLM answer must pass before anything of it is used.

Standard library only (``urllib`` in a thread, bounded by the configured timeout): no extra
runtime dependency for an optional feature. Every failure is an ``OllamaError``.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError


class OllamaError(Exception):
    """Ollama was unreachable, slow, answered an error or something that is not the schema."""


Confidence = Annotated[float, Field(ge=0.0, le=1.0)]


class LlmTriage(BaseModel):
    """What the model must answer: exactly these fields, nothing else."""

    model_config = ConfigDict(extra="forbid", strict=True)

    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    category: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None
    category_confidence: Confidence
    priority: Literal["P1", "P2", "P3", "P4"] | None
    priority_confidence: Confidence
    reply: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    sources: list[Annotated[str, StringConstraints(max_length=20)]] = Field(max_length=20)


def triage_schema(categories: list[str], sources: list[str]) -> dict[str, Any]:
    """The JSON schema given to Ollama's ``format`` (structured output) for *LlmTriage*."""
    category: dict[str, Any] = (
        {"anyOf": [{"type": "string", "enum": categories}, {"type": "null"}]}
        if categories
        else {"type": "null"}
    )
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "summary",
            "category",
            "category_confidence",
            "priority",
            "priority_confidence",
            "reply",
            "sources",
        ],
        "properties": {
            "summary": {"type": "string"},
            "category": category,
            "category_confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "priority": {"anyOf": [{"enum": ["P1", "P2", "P3", "P4"]}, {"type": "null"}]},
            "priority_confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reply": {"type": "string"},
            "sources": {"type": "array", "items": {"type": "string", "enum": sources or [""]}},
        },
    }


def parse_triage(content: str, categories: list[str], sources: list[str]) -> LlmTriage:
    """Validate an answer against the schema and the vocabulary it was offered."""
    try:
        answer = LlmTriage.model_validate_json(content)
    except ValidationError as exc:
        raise OllamaError(f"answer does not match the schema: {exc.error_count()} errors") from exc
    if answer.category is not None and answer.category not in categories:
        raise OllamaError("answer names a category that was not offered")
    unknown = set(answer.sources) - set(sources)
    if unknown:
        raise OllamaError("answer cites sources that were not offered")
    if sources and not answer.sources:
        raise OllamaError("answer cites no source")
    return answer


class OllamaClient:
    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _post_blocking(self, path: str, payload: dict[str, Any]) -> Any:
        request = urllib.request.Request(  # noqa: S310 (the operator's ATUM_OLLAMA_URL)
            self.base_url + path,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310  (the operator's ATUM_OLLAMA_URL)
                body = response.read(32 * 1024 * 1024)
        except urllib.error.HTTPError as exc:
            raise OllamaError(f"HTTP {exc.code} from {path}") from exc
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise OllamaError(f"{path}: {type(exc).__name__}") from exc
        try:
            return json.loads(body)
        except ValueError as exc:
            raise OllamaError(f"{path}: the answer is not JSON") from exc

    async def post(self, path: str, payload: dict[str, Any]) -> Any:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self._post_blocking, path, payload), self.timeout + 1
            )
        except TimeoutError as exc:
            raise OllamaError(f"{path}: timed out") from exc

    async def chat_json(self, model: str, system: str, user: str, schema: dict[str, Any]) -> str:
        data = await self.post(
            "/api/chat",
            {
                "model": model,
                "stream": False,
                "format": schema,
                "options": {"temperature": 0},
                "messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ],
            },
        )
        content = data.get("message", {}).get("content") if isinstance(data, dict) else None
        if not isinstance(content, str):
            raise OllamaError("/api/chat: no message content")
        return content

    async def embed(self, model: str, inputs: list[str]) -> list[list[float]]:
        data = await self.post("/api/embed", {"model": model, "input": inputs})
        vectors = data.get("embeddings") if isinstance(data, dict) else None
        if (
            not isinstance(vectors, list)
            or len(vectors) != len(inputs)
            or not all(
                isinstance(v, list) and v and all(isinstance(x, int | float) for x in v)
                for v in vectors
            )
            or len({len(v) for v in vectors}) > 1
        ):
            raise OllamaError("/api/embed: malformed embeddings")
        return [[float(x) for x in v] for v in vectors]
