"""The development mail sink: a real SMTP server on loopback (aiosmtpd) that stores every message
it receives as an ``.eml`` file under ``<data dir>/mail/``. `make run` starts it unless
``ATUM_SMTP_HOST`` points at a real server."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _SaveToDir:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        tmp = path.with_suffix(".part")
        data = envelope.original_content or envelope.content
        tmp.write_bytes(data if isinstance(data, bytes) else str(data).encode())
        os.replace(tmp, path)
        return "250 Message accepted for delivery"


def start(directory: Path, host: str = "127.0.0.1", port: int = 8025) -> Controller:
    controller = Controller(_SaveToDir(directory), hostname=host, port=port)
    controller.start()
    return controller


async def serve_forever(directory: Path, host: str, port: int) -> None:
    controller = start(directory, host, port)
    try:
        await asyncio.Event().wait()
    finally:
        controller.stop()
