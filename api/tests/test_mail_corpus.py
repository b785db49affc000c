"""Real-world shapes (tests/mail_corpus/, described in its README): Outlook, Gmail and Apple Mail
replies in English and German, HTML-only mail, RFC 2047 subjects, RFC 2231 file names,
winmail.dat, malformed MIME, raw 8-bit headers, a zip bomb, an executable posing as a PDF, inline
images, auto-replies, a bounce, list mail, a forward, a calendar invitation, S/MIME, ISO-2022-JP.

First the parser alone against expected.json, then every message through the whole pipeline (the
LMTP listener, the worker's step, the upload rules): files the rules refuse are listed on the
ticket as refused and never stored."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.mail.parse import html_to_text, parse
from app.models import TicketAttachment
from tests.mail_support import lmtp_listener, lmtp_send, make_people, process
from tests.test_worker import outbox_engine, worker_database

CORPUS = Path(__file__).parent / "mail_corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())
FILES = sorted(EXPECTED)


def squash(value: str) -> str:
    """Whitespace collapsed (format=flowed and HTML layout move line breaks)."""
    return " ".join(value.split())


@pytest.mark.parametrize("name", FILES)
def test_the_parser_reads_each_shape(name: str) -> None:
    want = EXPECTED[name]
    parsed = parse((CORPUS / name).read_bytes(), our_domain="desk.test")
    assert parsed.from_address == (want["from"].lower() if want["from"] else None)
    assert squash(parsed.subject) == squash(want["subject"])
    assert parsed.message_id == (want["message_id"].lower() if want.get("message_id") else None)
    assert parsed.automatic == want["automatic"], parsed.automatic_reason
    text_ = squash(parsed.text)
    for fragment in want.get("reply_text_contains", []):
        assert squash(fragment) in text_, f"{fragment!r} missing from the new text"
    for fragment in want.get("reply_text_excludes", []):
        assert squash(fragment) not in text_, f"{fragment!r} should be in the quoted part"
        assert (
            parsed.quoted is not None and squash(fragment) in squash(parsed.quoted + parsed.text)
        ) or squash(fragment) not in text_
    names = sorted(a.file_name or "" for a in parsed.attachments if a.file_name)
    wanted_names = sorted(a["file_name"] for a in want.get("attachments", []))
    assert set(wanted_names) <= set(names), names
    for fragment in want.get("html_must_not_contain", []):
        assert fragment.lower() not in parsed.text.lower()
    if want.get("bounce"):
        assert parsed.dsn and parsed.dsn[0].address == want["bounce_recipient"].lower()
        assert parsed.dsn[0].status == want["bounce_status"]
        assert want["bounce_original_message_id"].lower() in parsed.dsn_message_ids


def test_html_is_sanitised_before_it_becomes_text() -> None:
    html = (
        '<p>Hello <b>there</b></p><script>alert("x")</script><img src=x onerror="alert(1)">'
        '<a href="javascript:alert(2)">click</a><style>p{color:red}</style>'
    )
    out = html_to_text(html)
    assert "Hello there" in out and "click" in out
    assert not re.search(r"alert|onerror|javascript|color:red", out)


@pytest.fixture(scope="module")
async def corpus_db(server_url: str) -> AsyncIterator[str]:
    async with worker_database(server_url) as url:
        yield url


async def test_every_shape_through_the_pipeline(corpus_db: str) -> None:
    """Each message, re-addressed from a known customer, becomes a ticket (or, automatic, none);
    its files are stored by content or refused with a reason, never both."""
    async with outbox_engine(corpus_db) as engine:
        people = await make_people(engine)
        async with lmtp_listener(engine) as (port, _):
            for name in FILES:
                raw = (CORPUS / name).read_bytes()
                want = EXPECTED[name]
                if want["from"]:
                    # The sender becomes our customer (raw bytes: 8-bit headers stay 8-bit).
                    raw = re.sub(
                        rb"(?im)^(From:[^\n]*?)<?" + re.escape(want["from"].encode()) + rb">?",
                        rb"\1<" + people.alice.email.encode() + rb">",
                        raw,
                        count=1,
                    )
                replies = await lmtp_send(port, raw)
                assert [r.code for r in replies] == [250], (name, replies)
        await process(engine)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT status, reason, ticket_id, error, subject FROM inbound_messages "
                        "ORDER BY received_at"
                    )
                )
            ).all()
        assert len(rows) == len(FILES)
        robots = 0
        for status, reason, _ticket, error, _subject in rows:
            assert error is None and status in ("done", "dropped")
            # Automatic mail is dropped, or kept as a note on the ticket it names (the subject
            # tags of the corpus name tickets this test created) — never a ticket of its own.
            if status == "dropped" or (reason or "").startswith("automatic"):
                robots += 1
        assert robots == sum(1 for w in EXPECTED.values() if w["automatic"])

        async with AsyncSession(engine) as session:
            stored = {
                a.file_name: a.mime_type
                for a in (await session.execute(select(TicketAttachment))).scalars()
            }
            descriptions = " ".join(
                r[0]
                for r in await session.execute(
                    text("SELECT description FROM tickets WHERE created_by = :u"),
                    {"u": people.alice.id},
                )
            )
            for (refused,) in await session.execute(
                text("SELECT refused_files FROM ticket_comments WHERE refused_files IS NOT NULL")
            ):
                descriptions += " ".join(f" Not attached: {r['file_name']}" for r in refused)
        for name in FILES:
            for file in EXPECTED[name].get("attachments", []):
                if EXPECTED[name]["automatic"]:
                    continue
                if file["content_type_sniffed"] is None:
                    assert file["file_name"] not in stored, f"{name}: {file['file_name']} stored"
                    assert f"Not attached: {file['file_name']}" in descriptions
                else:
                    assert stored.get(file["file_name"]) == file["content_type_sniffed"], name


@pytest.mark.parametrize("path", sorted((CORPUS / "fuzz").glob("*.eml")), ids=lambda p: p.name)
def test_what_the_fuzzer_found_stays_fixed(path: Path) -> None:
    """Inputs fuzz/fuzz_mail_parse.py once broke the parser with: a NUL byte in the text (which
    PostgreSQL cannot store) and an enclosed message the generator cannot write back."""
    parsed = parse(path.read_bytes(), our_domain="desk.test")
    assert "\x00" not in parsed.text and "\x00" not in (parsed.quoted or "")
