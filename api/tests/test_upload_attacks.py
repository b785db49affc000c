"""The upload attack corpus beyond test_attachments_api.py (SECURITY.md "Uploads").

Polyglots (a PDF or a GIF that is also HTML or JavaScript), executables and markup disguised by
name and declared type, and hostile file names sent byte for byte in hand-made multipart bodies
(NUL, RTLO, CR/LF, 300 characters, RFC 2231 names). Whatever is accepted is downloaded again
through the customer and the staff endpoint, and every download must carry exactly one
well-formed ``Content-Disposition: attachment`` plus nosniff and the sandbox CSP.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Organization
from app.models.enums import Role
from app.services.attachments import file_store
from tests.factories import Actor, make_org, make_user
from tests.test_attachments_api import (
    CSP,
    KEY,
    Desk,
    Uploads,
    disposition_name,
    open_ticket,
    rows_of,
)
from tests.test_filetypes import GIF, PDF, PNG
from tests.test_tickets_tenancy import headers_for

PE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 44
    + b"\x80\x00\x00\x00"
    + b"This program cannot be run in DOS mode.\r\r\n$"
    + b"\x00" * 64
    + b"PE\x00\x00"
)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 100
MACHO_64 = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00" + b"\x00" * 100
MACHO_FAT = b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + b"\x00" * 100
HTML = b"<!DOCTYPE html>\n<html><body><script>fetch('/api/me')</script></body></html>\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"><rect/></svg>\n'
PDF_WITH_HTML = PDF.replace(b"\n", b"\n<html><body><script>alert(1)</script></body></html>\n", 1)
HTML_WITH_PDF = b"<html><script>alert(1)</script></html>\n" + PDF
GIF_JS = b"GIF89a/*\x01\x00\x01\x00\x00\xff\x00,*/=1;alert(document.domain);//" + GIF[6:]
GIF_SCRIPT = GIF + b"<script src=//evil.example/x.js></script>"
DISPOSITION_HEADER = re.compile(r"attachment; filename=\"[ -~]*\"; filename\*=UTF-8''[\w%.~-]+")


@pytest.fixture
async def uploads() -> AsyncIterator[Uploads]:
    tracker = Uploads()
    yield tracker
    for path in tracker.mine():
        if KEY.fullmatch(path.name):
            await file_store().delete(path.name)


@pytest.fixture
async def desk(client: AsyncClient, db: AsyncSession, uploads: Uploads) -> Desk:
    org = await make_org(db)
    customer = await actor(db, Role.CUSTOMER_USER, org)
    return Desk(org, customer, await open_ticket(client, customer))


@pytest.fixture
async def agent(db: AsyncSession) -> Actor:
    return await actor(db, Role.AGENT)


async def actor(db: AsyncSession, role: Role, org: Organization | None = None) -> Actor:
    """A signed-in user without the cost of a password check."""
    user = await make_user(db, role=role, org=org)
    token = (await headers_for(db, user))["Authorization"].removeprefix("Bearer ")
    return Actor(user=user, token=token)


async def send(
    client: AsyncClient,
    actor: Actor,
    url: str,
    disposition: bytes,
    data: bytes,
    mime: bytes,
    **params: str,
) -> Response:
    """One file part, its headers exactly as given."""
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\n".encode()
        + b"Content-Disposition: "
        + disposition
        + b"\r\nContent-Type: "
        + mime
        + b"\r\n\r\n"
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return await client.post(
        f"{url}/attachments",
        content=body,
        params=params,
        headers={**actor.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )


def named(name: bytes) -> bytes:
    return b'form-data; name="file"; filename="' + name + b'"'


def assert_download_headers(response: Response) -> str:
    assert response.status_code == 200, response.text
    [value] = response.headers.get_list("content-disposition")
    assert DISPOSITION_HEADER.fullmatch(value), value
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]
    assert response.headers.get_list("content-security-policy") == [CSP]
    assert "no-store" in response.headers["cache-control"]
    return disposition_name(response)


async def downloads(client: AsyncClient, desk: Desk, agent: Actor, attachment_id: str) -> set[str]:
    """The name offered by both download endpoints (their headers checked on the way)."""
    customer = await client.get(
        f"{desk.portal}/attachments/{attachment_id}", headers=desk.customer.headers
    )
    staff = await client.get(f"{desk.internal}/attachments/{attachment_id}", headers=agent.headers)
    return {assert_download_headers(customer), assert_download_headers(staff)}


REFUSED = [
    pytest.param("manual.pdf", PDF_WITH_HTML, "application/pdf", id="pdf-with-html-inside"),
    pytest.param("manual.pdf", HTML_WITH_PDF, "application/pdf", id="html-then-pdf"),
    pytest.param("logo.gif", GIF_SCRIPT, "image/gif", id="gif-with-script-tag"),
    pytest.param("photo.png", PE, "image/png", id="pe-named-png"),
    pytest.param("invoice.pdf", PE, "application/pdf", id="pe-named-pdf"),
    pytest.param("readme.txt", PE, "text/plain", id="pe-named-txt"),
    pytest.param("readme.txt", ELF, "text/plain", id="elf-named-txt"),
    pytest.param("photo.png", ELF, "image/png", id="elf-named-png"),
    pytest.param("report.pdf", MACHO_64, "application/pdf", id="macho-named-pdf"),
    pytest.param("notes.txt", MACHO_FAT, "text/plain", id="macho-universal-named-txt"),
    pytest.param("notes.txt", HTML, "text/plain", id="html-named-txt"),
    pytest.param("notes.txt", b"\xef\xbb\xbf  " + HTML, "text/plain", id="html-after-bom"),
    pytest.param("notes.txt", HTML, "application/octet-stream", id="html-as-octet-stream"),
    pytest.param("picture.jpg", SVG, "image/jpeg", id="svg-named-jpg"),
    pytest.param("picture.txt", SVG, "text/plain", id="svg-named-txt"),
]


class TestDisguisedContent:
    @pytest.mark.parametrize(("name", "data", "mime"), REFUSED)
    async def test_is_refused_with_nothing_kept(
        self,
        client: AsyncClient,
        db: AsyncSession,
        desk: Desk,
        uploads: Uploads,
        name: str,
        data: bytes,
        mime: str,
    ) -> None:
        response = await send(
            client,
            desk.customer,
            desk.portal,
            named(name.encode()),
            uploads.tag(data),
            mime.encode(),
        )
        assert response.status_code == 415, response.text
        assert response.json()["code"] == "unsupported_media_type"
        assert set(response.json()) == {"detail", "code"}
        assert await rows_of(db, desk.ticket) == []
        assert uploads.mine() == set()

    @pytest.mark.parametrize(("name", "data", "mime"), REFUSED[3:6])
    async def test_staff_cannot_upload_it_either(
        self,
        client: AsyncClient,
        db: AsyncSession,
        desk: Desk,
        agent: Actor,
        uploads: Uploads,
        name: str,
        data: bytes,
        mime: str,
    ) -> None:
        response = await send(
            client,
            agent,
            desk.internal,
            named(name.encode()),
            uploads.tag(data),
            mime.encode(),
            is_internal="true",
        )
        assert response.status_code == 415, response.text
        assert await rows_of(db, desk.ticket) == []
        assert uploads.mine() == set()

    async def test_a_gif_that_is_also_javascript_is_only_ever_served_as_an_image(
        self, client: AsyncClient, desk: Desk, agent: Actor, uploads: Uploads
    ) -> None:
        data = uploads.tag(GIF_JS)
        response = await send(
            client, desk.customer, desk.portal, named(b"anim.gif"), data, b"image/gif"
        )
        assert response.status_code == 201, response.text
        assert response.json()["mime_type"] == "image/gif"
        download = await client.get(
            f"{desk.portal}/attachments/{response.json()['id']}", headers=desk.customer.headers
        )
        # With nosniff a browser refuses to run an image/gif as a script, and the sandbox CSP
        # and the attachment disposition keep it from being rendered as a page.
        assert download.headers["content-type"] == "image/gif"
        assert download.content == data
        assert await downloads(client, desk, agent, response.json()["id"]) == {"anim.gif"}

    async def test_a_png_is_still_a_png(
        self, client: AsyncClient, desk: Desk, agent: Actor, uploads: Uploads
    ) -> None:
        data = uploads.tag(PNG)
        response = await send(
            client, desk.customer, desk.portal, named(b"pixel.png"), data, b"image/png"
        )
        assert response.status_code == 201, response.text
        assert await downloads(client, desk, agent, response.json()["id"]) == {"pixel.png"}


NAMES = [
    pytest.param(b"inv\x00oice.txt", "invoice.txt", id="nul"),
    pytest.param(b"\x00\x00\x00", "attachment", id="only-nul"),
    pytest.param("report\u202etxt.exe".encode(), "reporttxt.exe", id="rtlo"),
    pytest.param("\u202e\u200f\u2066".encode(), "attachment", id="only-direction-marks"),
    pytest.param(b"a\nContent-Type: text/html.txt", "html.txt", id="bare-lf"),
    pytest.param(b"..", "attachment", id="dot-dot"),
    pytest.param(b"..\\..\\windows\\win.ini", "win.ini", id="backslash-traversal"),
    pytest.param(b'a";filename="x.html', "x.html", id="second-filename-wins-content-sniffed"),
    pytest.param(b"\xff\xfe.txt", "\ufffd\ufffd.txt", id="invalid-utf8"),
]


class TestHostileNames:
    @pytest.mark.parametrize(("raw", "expected"), NAMES)
    async def test_is_sanitised_and_offered_back_safely(
        self,
        client: AsyncClient,
        desk: Desk,
        agent: Actor,
        uploads: Uploads,
        raw: bytes,
        expected: str,
    ) -> None:
        response = await send(
            client, desk.customer, desk.portal, named(raw), uploads.tag(b"text"), b"text/plain"
        )
        assert response.status_code == 201, response.text
        name = response.json()["file_name"]
        assert name == expected
        assert not re.search(r"[\x00-\x1f\x7f/\\\u202a-\u202e\u2066-\u2069]", name)
        assert await downloads(client, desk, agent, response.json()["id"]) == {expected}

    async def test_a_300_character_name_sent_raw_is_cut_to_255_bytes(
        self, client: AsyncClient, desk: Desk, agent: Actor, uploads: Uploads
    ) -> None:
        raw = ("ü" * 100 + "x" * 196 + ".txt").encode()
        assert len(raw.decode()) == 300
        response = await send(
            client, desk.customer, desk.portal, named(raw), uploads.tag(b"text"), b"text/plain"
        )
        assert response.status_code == 201, response.text
        name = response.json()["file_name"]
        assert len(name.encode()) <= 255 and name.endswith(".txt")
        assert name.startswith("ü" * 100)
        assert await downloads(client, desk, agent, response.json()["id"]) == {name}

    async def test_an_rfc_2231_name_is_not_trusted(
        self, client: AsyncClient, desk: Desk, agent: Actor, uploads: Uploads
    ) -> None:
        disposition = b"form-data; name=\"file\"; filename*=UTF-8''..%2F..%2Fa%00%E2%80%AE.txt"
        response = await send(
            client, desk.customer, desk.portal, disposition, uploads.tag(b"t"), b"text/plain"
        )
        assert response.status_code == 201, response.text
        assert response.json()["file_name"] == "attachment"
        assert await downloads(client, desk, agent, response.json()["id"]) == {"attachment"}

    async def test_a_crlf_in_the_part_headers_never_becomes_a_response_header(
        self, client: AsyncClient, desk: Desk, agent: Actor, uploads: Uploads
    ) -> None:
        raw = b"a.txt\r\nSet-Cookie: session=stolen"
        response = await send(
            client, desk.customer, desk.portal, named(raw), uploads.tag(b"x"), b"text/plain"
        )
        assert response.status_code == 201, response.text
        assert "set-cookie" not in response.headers
        # The line break ends the header: the name is what came before it, its stray quote made
        # harmless; "Set-Cookie" became a part header nobody reads.
        assert response.json()["file_name"] == "_a.txt"
        assert await downloads(client, desk, agent, response.json()["id"]) == {"_a.txt"}

    async def test_a_bare_cr_in_the_part_headers_is_malformed_and_nothing_is_kept(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, uploads: Uploads
    ) -> None:
        response = await send(
            client, desk.customer, desk.portal, named(b"a\rb.txt"), uploads.tag(b"x"), b"text/plain"
        )
        assert response.status_code == 422, response.text
        assert await rows_of(db, desk.ticket) == []
        assert uploads.mine() == set()
