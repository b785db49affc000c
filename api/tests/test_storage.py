"""The streaming attachment store: generated keys, size limit while streaming, sniffing on the
finished file, and no trace left behind by any failed upload (including a genuinely full disk)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import stat
import subprocess
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.services.storage import (
    EmptyUpload,
    FileStore,
    RefusedType,
    StorageFull,
    StoredFile,
    UploadTooLarge,
)
from tests.test_filetypes import DOCX, PNG


async def stream(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if not path.is_dir()]


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class ClientGone(Exception):
    pass


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "attachments"


@pytest.fixture
def store(root: Path) -> FileStore:
    return FileStore(root)


async def save_png(store: FileStore, data: bytes = PNG) -> StoredFile:
    return await store.save(
        stream(data, 17), max_bytes=1024, file_name="pixel.png", declared_type="image/png"
    )


class TestSave:
    async def test_streams_to_a_generated_key(self, store: FileStore, root: Path) -> None:
        stored = await store.save(
            stream(PNG, 17),
            max_bytes=len(PNG),
            file_name="../../evil/pixel.png",
            declared_type="image/png",
        )
        path = root / stored.key[:2] / stored.key
        assert store.path_of(stored.key) == path
        assert path.read_bytes() == PNG
        assert stored.size_bytes == len(PNG)
        assert stored.sha256 == hashlib.sha256(PNG).hexdigest()
        assert stored.mime_type == "image/png"
        assert files_under(root) == [path]
        assert list((root / "tmp").iterdir()) == []

    async def test_keys_are_unique_hex(self, store: FileStore) -> None:
        first, second = await save_png(store), await save_png(store)
        assert first.key != second.key
        for key in (first.key, second.key):
            assert len(key) == 32
            assert int(key, 16) >= 0
            assert key == key.lower()

    async def test_permissions(self, store: FileStore, root: Path) -> None:
        stored = await save_png(store)
        assert mode_of(store.path_of(stored.key)) == 0o600
        assert mode_of(root) == 0o700
        assert mode_of(root / "tmp") == 0o700
        assert mode_of(root / stored.key[:2]) == 0o700

    async def test_zip_members_are_read_from_the_finished_file(self, store: FileStore) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("word/document.xml", "x" * 20_000)
        docx = buffer.getvalue()
        stored = await store.save(
            stream(docx, 4096), max_bytes=len(docx), file_name="a.docx", declared_type=None
        )
        assert stored.mime_type == DOCX
        assert store.path_of(stored.key).read_bytes() == docx

    async def test_accepts_exactly_max_bytes(self, store: FileStore) -> None:
        stored = await store.save(
            stream(PNG), max_bytes=len(PNG), file_name="p.png", declared_type=None
        )
        assert stored.size_bytes == len(PNG)


class TestFailuresLeaveNothing:
    async def test_too_large_stops_reading(self, store: FileStore, root: Path) -> None:
        consumed = 0

        async def endless() -> AsyncIterator[bytes]:
            nonlocal consumed
            for _ in range(100_000):
                consumed += 1
                yield b"a" * 1024

        with pytest.raises(UploadTooLarge):
            await store.save(endless(), max_bytes=4096, file_name="a.txt", declared_type=None)
        assert consumed == 5
        assert files_under(root) == []

    async def test_one_byte_over_the_limit(self, store: FileStore, root: Path) -> None:
        with pytest.raises(UploadTooLarge):
            await store.save(
                stream(PNG), max_bytes=len(PNG) - 1, file_name="p.png", declared_type=None
            )
        assert list((root / "tmp").iterdir()) == []
        assert files_under(root) == []

    async def test_stream_error_propagates_and_removes_the_temp_file(
        self, store: FileStore, root: Path
    ) -> None:
        async def broken() -> AsyncIterator[bytes]:
            yield PNG[:20]
            assert len(list((root / "tmp").iterdir())) == 1
            raise ClientGone

        with pytest.raises(ClientGone):
            await store.save(broken(), max_bytes=1024, file_name="p.png", declared_type=None)
        assert files_under(root) == []

    async def test_cancellation_removes_the_temp_file(self, store: FileStore, root: Path) -> None:
        waiting = asyncio.Event()

        async def stalled() -> AsyncIterator[bytes]:
            yield PNG[:20]
            waiting.set()
            await asyncio.Event().wait()
            yield PNG[20:]

        task = asyncio.create_task(
            store.save(stalled(), max_bytes=1024, file_name="p.png", declared_type=None)
        )
        await asyncio.wait_for(waiting.wait(), timeout=10)
        assert len(files_under(root)) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert files_under(root) == []

    @pytest.mark.parametrize(
        ("data", "file_name", "declared"),
        [
            (b"\x7fELF" + b"\x00" * 5000, "report.pdf", "application/pdf"),
            (PNG + b"<html><script>x</script></html>", "p.png", "image/png"),
            (b"<!doctype html><p>x", "a.txt", "text/plain"),
            (b"PK\x03\x04" + b"\x00" * 200, "a.docx", None),
        ],
        ids=["elf", "polyglot", "html", "corrupt-zip"],
    )
    async def test_refused_type_keeps_nothing(
        self, store: FileStore, root: Path, data: bytes, file_name: str, declared: str | None
    ) -> None:
        with pytest.raises(RefusedType):
            await store.save(
                stream(data, 700), max_bytes=10_000, file_name=file_name, declared_type=declared
            )
        assert files_under(root) == []

    @pytest.mark.parametrize("chunks", [[], [b""], [b"", b""]])
    async def test_empty(self, store: FileStore, root: Path, chunks: list[bytes]) -> None:
        async def parts() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        with pytest.raises(EmptyUpload):
            await store.save(parts(), max_bytes=1024, file_name="a.txt", declared_type=None)
        assert files_under(root) == []


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB tmpfs, so the store meets a genuine ENOSPC from the kernel."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(mount_point)],
        check=True,
    )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


class TestDiskFull:
    async def test_enospc_is_storage_full_and_space_is_recovered(self, tiny_disk: Path) -> None:
        store = FileStore(tiny_disk / "store")
        big = PNG + b"\x00" * (256 * 1024)
        with pytest.raises(StorageFull) as full:
            await store.save(
                stream(big, 8192), max_bytes=len(big), file_name="big.png", declared_type=None
            )
        assert isinstance(full.value.__cause__, OSError)
        assert files_under(tiny_disk) == []

        stored = await save_png(store)
        assert store.path_of(stored.key).read_bytes() == PNG


class TestKeys:
    @pytest.mark.parametrize(
        "key",
        [
            "../x",
            "",
            "0" * 31,
            "0" * 33,
            "A" * 32,
            "g" * 32,
            "0" * 30 + "/x",
            "../" + "0" * 29,
            "0" * 32 + "\n",
            "\uff10" * 32,
        ],
    )
    def test_path_of_rejects_tampered_keys(self, store: FileStore, key: str) -> None:
        with pytest.raises(ValueError):
            store.path_of(key)

    def test_path_of_shards_by_prefix(self, store: FileStore, root: Path) -> None:
        key = "ab" + "0" * 30
        assert store.path_of(key) == root / "ab" / key

    async def test_delete(self, store: FileStore) -> None:
        stored = await save_png(store)
        path = store.path_of(stored.key)
        await store.delete(stored.key)
        assert not path.exists()
        await store.delete(stored.key)
        with pytest.raises(ValueError):
            await store.delete("../" + "0" * 29)
