"""Streaming a single file out of a ``multipart/form-data`` request body.

Starlette's form parser spools the whole upload to a temporary file before the endpoint runs; this
reads the body as it arrives instead (python-multipart's push parser), so an upload is hashed,
size-checked and written to its final store in one pass and an oversize body is refused as soon as
it crosses the limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from app.errors import Invalid

FIELD = "file"

# The request body of an endpoint that reads its file with ``file_part`` (FastAPI cannot see it).
FILE_UPLOAD_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    "properties": {FIELD: {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@dataclass(frozen=True, slots=True)
class FilePart:
    """The ``file`` field: its declared name and type, and its bytes as they arrive."""

    file_name: str | None
    content_type: str | None
    chunks: AsyncIterator[bytes]


class _State:
    def __init__(self) -> None:
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[str, bytes] = {}
        self.in_file = False
        self.seen_file = False
        self.pending: list[bytes] = []
        self.done = False
        self.file_name: str | None = None
        self.content_type: str | None = None


async def file_part(request: Request) -> FilePart:
    """Parse until the ``file`` field starts; its data is then pulled lazily via ``chunks``."""
    ctype, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise Invalid("file", "Send the file as multipart/form-data in a field named 'file'")
    state = _State()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state.header_value += data[start:end]

    def on_header_end() -> None:
        # Raw bytes: parse_options_header reads bytes as latin-1 and hands the parameters back
        # byte for byte, so a UTF-8 file name survives (a str would be re-encoded as latin-1).
        state.headers[state.header_field.decode("latin-1").lower()] = bytes(state.header_value)
        state.header_field.clear()
        state.header_value.clear()

    def on_headers_finished() -> None:
        _, disp = parse_options_header(state.headers.get("content-disposition"))
        name = disp.get(b"name", b"").decode("utf-8", "replace")
        state.in_file = name == FIELD and not state.seen_file
        if state.in_file:
            state.seen_file = True
            raw = disp.get(b"filename")
            state.file_name = raw.decode("utf-8", "replace") if raw is not None else None
            content_type = state.headers.get("content-type")
            state.content_type = (
                content_type.decode("utf-8", "replace") if content_type is not None else None
            )
        state.headers = {}

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state.in_file:
            state.pending.append(bytes(data[start:end]))

    def on_part_end() -> None:
        if state.in_file:
            state.in_file = False
            state.done = True

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    stream = request.stream().__aiter__()

    async def feed() -> bool:
        """Push the next body chunk through the parser; False at the end of the body."""
        try:
            chunk = await stream.__anext__()
        except StopAsyncIteration:
            return False
        try:
            parser.write(chunk)
        except MultipartParseError as exc:
            raise Invalid("file", "Malformed multipart body") from exc
        return True

    while not state.seen_file:
        if not await feed():
            raise Invalid("file", "No file in the field named 'file'")

    async def chunks() -> AsyncIterator[bytes]:
        while True:
            while state.pending:
                yield state.pending.pop(0)
            if state.done:
                return
            if not await feed():
                if state.pending:
                    continue
                raise Invalid("file", "The upload ended before the file did")

    return FilePart(state.file_name, state.content_type, chunks())
