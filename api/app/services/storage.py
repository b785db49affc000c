"""Attachment bytes on the local disk, behind an interface an object store could implement.

An upload is streamed into ``<root>/tmp/<key>.part`` while it is hashed and counted, so the size
limit holds without ever buffering the body; its type is sniffed from the finished file, and only
then is it moved (atomically, same file system) to ``<root>/<key[:2]>/<key>``. Whatever goes wrong
on the way (too large, refused type, the client going away, cancellation, a full disk) the partial
file is removed, so the store never holds bytes that no attachment row points to. Keys are random
and never derived from the uploader's file name.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from app.utils.filetypes import SNIFF_BYTES, RefusedType, sniff

__all__ = [
    "EmptyUpload",
    "FileStore",
    "RefusedType",
    "StorageFull",
    "StoredFile",
    "UploadTooLarge",
]

T = TypeVar("T")

_KEY = re.compile(r"[0-9a-f]{32}")
_DIR_MODE = 0o700
_FILE_MODE = 0o600
# With downloads served by nginx (X-Accel-Redirect), nginx's user reads the files through the
# app's group: files 0640, directories 0750, never anything for other users.
_SHARED_DIR_MODE = 0o750
_SHARED_FILE_MODE = 0o640
_OPEN_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOFOLLOW", 0)
)


class StorageFull(Exception):
    """The store could not write (disk full, quota, I/O error); nothing was kept."""


class UploadTooLarge(Exception):
    """The upload exceeded ``max_bytes``; the rest of the stream was not read."""


class EmptyUpload(Exception):
    """The upload had no bytes."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    size_bytes: int
    sha256: str
    mime_type: str


async def _disk(fn: Callable[..., T], *args: object) -> T:
    """Run blocking file-system work off the event loop; any OSError means the store failed."""
    try:
        return await asyncio.to_thread(fn, *args)
    except OSError as exc:
        raise StorageFull(str(exc.strerror or exc)) from exc


class FileStore:
    def __init__(self, root: Path, *, group_readable: bool = False) -> None:
        self.root = root
        self.dir_mode = _SHARED_DIR_MODE if group_readable else _DIR_MODE
        self.file_mode = _SHARED_FILE_MODE if group_readable else _FILE_MODE

    def path_of(self, key: str) -> Path:
        """Where ``key`` lives; a key that is not 32 lowercase hex digits (tampered) is refused."""
        if not _KEY.fullmatch(key):
            raise ValueError("invalid storage key")
        return self.root / key[:2] / key

    async def save(
        self,
        chunks: AsyncIterator[bytes],
        *,
        max_bytes: int,
        file_name: str,
        declared_type: str | None,
    ) -> StoredFile:
        key = uuid.uuid4().hex
        part = self.root / "tmp" / f"{key}.part"
        final = self.path_of(key)
        out: BinaryIO | None = None
        placed = False
        try:
            out = await _disk(self._open_part, part)
            digest = hashlib.sha256()
            head = bytearray()
            size = 0
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLarge(f"upload exceeds {max_bytes} bytes")
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                digest.update(chunk)
                await _disk(self._write_chunk, out, chunk)
            await _disk(self._finish_part, out)
            out = None
            if size == 0:
                raise EmptyUpload("empty upload")
            mime = await asyncio.to_thread(
                sniff,
                bytes(head),
                file_name=file_name,
                declared_type=declared_type,
                zip_names=lambda: self._zip_names(part),
            )
            await _disk(self._make_dir, final.parent)
            try:
                os.replace(part, final)
            except OSError as exc:
                raise StorageFull(str(exc.strerror or exc)) from exc
            placed = True
            await _disk(self._sync_dir, final.parent)
        except BaseException:
            self._discard(out, part, final if placed else None)
            raise
        return StoredFile(key=key, size_bytes=size, sha256=digest.hexdigest(), mime_type=mime)

    async def delete(self, key: str) -> None:
        """Remove a stored file; a file that is already gone is not an error."""
        path = self.path_of(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    def _make_dir(self, path: Path) -> None:
        self.root.mkdir(mode=self.dir_mode, parents=True, exist_ok=True)
        path.mkdir(mode=self.dir_mode, exist_ok=True)

    def _open_part(self, part: Path) -> BinaryIO:
        self._make_dir(part.parent)
        fd = os.open(part, _OPEN_FLAGS, self.file_mode)
        try:
            os.fchmod(fd, self.file_mode)
            return os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise

    def _write_chunk(self, out: BinaryIO, chunk: bytes) -> None:
        out.write(chunk)

    def _finish_part(self, out: BinaryIO) -> None:
        try:
            out.flush()
            os.fsync(out.fileno())
        finally:
            out.close()

    def _sync_dir(self, path: Path) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _zip_names(self, part: Path) -> list[str]:
        try:
            with zipfile.ZipFile(part) as archive:
                return archive.namelist()
        except zipfile.BadZipFile as exc:
            raise RefusedType("The archive is damaged.") from exc

    def _discard(self, out: BinaryIO | None, part: Path, final: Path | None) -> None:
        """Remove every trace of a failed upload.

        Runs synchronously so it also completes when the task is being cancelled. Closing the
        buffered file waits for a write still running in a worker thread, so that write can never
        land in a file descriptor reused by someone else.
        """
        if out is not None:
            with contextlib.suppress(OSError, ValueError):
                out.close()
        for path in (part, final):
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
