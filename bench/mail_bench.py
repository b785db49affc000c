"""Mail ingest benchmark: BENCH_MAILS mails (80 % new tickets, 20 % replies, 5 % with a 200 KB
attachment) through the real LMTP listener, against a bare aiosmtpd LMTP server that only writes
the bytes to disk (the ceiling, same run); then a fixed 50 mails/s for BENCH_MAIL_LATENCY_SECONDS,
timing each new ticket from the LMTP ``250`` to the moment the API lists it, and the API's reads
with and without that ingest.

    cd api && uv run python ../bench/mail_bench.py                  # 10,000 mails, as required
    cd api && BENCH_MAILS=1000 BENCH_ACCEPT_ROUNDS=1 BENCH_MAIL_LATENCY_SECONDS=20 \
        uv run python ../bench/mail_bench.py                        # a quick look
    cd api && uv run python ../bench/mail_bench.py --report         # mail-latest.md from .json

Targets (the product owner's): the listener accepts at least 40 % of the ceiling's mails/s; p95
from ``250`` to the ticket being visible in the API below 2 s while ingesting at 50 mails/s; API
reads not more than 10 % slower during that ingest than without it.

Creates a database of its own on the server of ATUM_DATABASE_URL (else the embedded PostgreSQL
under the data dir), migrates it and seeds it: 20 organizations with an e-mail domain each, 500
customers at those domains, 2 managers and 8 agents, the default LMTP mailbox
support@bench.test, and 400 tickets made through the ticket services (created by a customer,
accepted, assigned) that the replies answer: half of them the way a mail client answers a
notification (To: the notification's Reply-To address with its signed token, In-Reply-To: its
signed Message-ID), half with the ``[ATUM DESK #number]`` subject tag from a customer of the
ticket's organization. The mails are built beforehand from a fixed seed (untimed). Processes, each
in a session of its own: the API as the production unit runs it (gunicorn, uvicorn workers), the
worker (``python -m app.cli worker``), the LMTP listener (``python -m app.cli lmtp``), an SMTP sink
for the notifications the worker sends, and the ceiling (this file, ``--ceiling``).

Phases: acceptance rounds (the same mails to the ceiling, then to the listener with the worker
paused; the stored copies are deleted, never processed), one round as deployed (ceiling, then the
listener with the worker running, until the last mail is a ticket or comment: the end-to-end rate),
then the fixed-rate phase with the visibility poller and the reader (before, during, after).
Between phases it waits until the worker is idle. Everything is stopped and the database dropped at
the end; results/mail-latest.md and .json are written.

Settings (environment):
  BENCH_MAILS                 mails per throughput round (default 10000)
  BENCH_ACCEPT_ROUNDS         acceptance rounds with the worker paused (default 3; the median
                              is reported); the round as deployed is always one
  BENCH_WORKERS               worker processes (default 1, as the production unit runs)
  BENCH_CONNECTIONS           concurrent LMTP connections of the feeding client (default 8)
  BENCH_MAIL_RATE             mails/s of the latency phase (default 50)
  BENCH_MAIL_LATENCY_SECONDS  seconds of the latency phase (default 60)
  BENCH_MAIL_BASELINE_SECONDS seconds of reads without ingest, before and after it (default 20)
  BENCH_READ_INTERVAL_MS      one read every this many ms, one connection (default 50)
  BENCH_POLL_MS               the visibility poller's interval (default 100)
  BENCH_DRAIN_TIMEOUT         seconds the worker may take for a round's mails (default 1500)
  BENCH_STRICT=1              exit 1 when a target fails (default: report PASS/FAIL, exit 0)
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import random
import re
import secrets
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

MAIL_DOMAIN = "bench.test"
SUPPORT = f"support@{MAIL_DOMAIN}"
ACCEPT_TARGET = 0.40
LATENCY_TARGET_S = 2.0
READ_TARGET = 1.10
SEED = 20261203
ORGS, CUSTOMERS, MANAGERS, AGENTS, REPLY_TICKETS = 20, 500, 2, 8, 400
NEW_SHARE, ATTACHMENT_SHARE = 0.80, 0.05
ATTACHMENT_BYTES = 200 * 1024
PASSWORD = "bench-password-not-secret"  # noqa: S105  (bench users, throwaway database)
MARKER = re.compile(r"\bmbl-[0-9a-f]{6}-\d{5}\b")
RUN_TAG = uuid.uuid4().hex[:6]


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


# ---------------------------------------------------------------- the ceiling (its own process)


def serve_ceiling(port: int, directory: str) -> None:
    """Child process: a bare aiosmtpd LMTP server (the listener's protocol settings) that writes
    each message's bytes to a file and answers one 250 per recipient. No database."""
    from aiosmtpd.lmtp import LMTP

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)

    class Handler:
        def __init__(self) -> None:
            self.count = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.count += 1
            (out / f"{os.getpid()}-{self.count}.eml").write_bytes(envelope.original_content)
            return "\r\n".join(["250 2.0.0 Stored"] * len(envelope.rcpt_tos))

    class Server(LMTP):
        line_length_limit = 1 << 20

    async def main() -> None:
        handler = Handler()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: Server(
                handler,
                data_size_limit=30 * 1024 * 1024,
                enable_SMTPUTF8=True,
                hostname=MAIL_DOMAIN,
                ident="bare LMTP",
                timeout=300,
            ),
            host="127.0.0.1",
            port=port,
        )
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print("ready", flush=True)
        await stop.wait()
        server.close()

    asyncio.run(main())


# ---------------------------------------------------------------- the reader (its own process)


def serve_reader(port: int, token: str, ticket_id: str, seconds: float, interval: float) -> None:
    """Child process: sequential reads over one keep-alive connection, one every *interval*
    seconds, alternating the desk list and a ticket's detail; prints the latencies (ms) as JSON.
    A process of its own so that the feeding client's work does not delay its clock."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "bench.mail.read"}
    paths = {"list": "/api/internal/tickets", "detail": f"/api/internal/tickets/{ticket_id}"}
    out: dict[str, list[float]] = {"list": [], "detail": []}
    errors = 0
    start = time.perf_counter()
    k = 0
    while True:
        due = start + k * interval
        now = time.perf_counter()
        if due - start >= seconds:
            break
        if due > now:
            time.sleep(due - now)
        kind = "list" if k % 2 == 0 else "detail"
        t = time.perf_counter()
        try:
            conn.request("GET", paths[kind], headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors += 1
            else:
                out[kind].append((time.perf_counter() - t) * 1000)
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        k += 1
    print(json.dumps({**out, "errors": errors}), flush=True)


# ---------------------------------------------------------------- the mails


@dataclass
class Person:
    id: uuid.UUID
    org: int
    email: str
    name: str


@dataclass
class Target:
    """A ticket the replies answer, and the creator's last notification about it."""

    number: int
    org: int
    title: str
    creator: Person
    message_id: str
    reply_token: str
    subject: str


@dataclass
class Mail:
    kind: str  # new, reply
    sender: str
    rcpt: str
    data: bytes  # on the wire: CRLF, dot-stuffed, ending with ".\r\n"
    attachment: bool
    marker: str | None = None


def wire(raw: bytes) -> bytes:
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join((b"." + x if x.startswith(b".") else x) + b"\r\n" for x in lines) + b".\r\n"


def png_file(rng: random.Random, size: int) -> bytes:
    """A valid PNG of about *size* bytes (noise does not compress, as a photo hardly does)."""
    width = 256
    rows = size // (width * 3 + 1)
    raw = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(rows))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, rows, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 1))
        + chunk(b"IEND", b"")
    )


def csv_file(rng: random.Random, size: int) -> bytes:
    lines = ["timestamp,host,event,code,duration_ms"]
    total = len(lines[0]) + 1
    events = ["login", "sync", "print", "vpn_connect", "backup", "mail_send", "sso"]
    t = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    while total < size:
        t += timedelta(seconds=rng.randint(1, 30))
        line = (
            f"{t:%Y-%m-%dT%H:%M:%SZ},ws-{rng.randrange(10_000):04d},{rng.choice(events)},"
            f"ERR-{rng.randrange(1000, 10_000)},{rng.randint(3, 30_000)}"
        )
        lines.append(line)
        total += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


SIGNATURE = (
    "--\n{name}\n{org} | IT coordination\nPhone +49 30 {phone} | {email}\n\n"
    "This e-mail and any attachments are confidential and intended solely for the addressee. "
    "If you have received it in error, please notify the sender and delete it. {org} accepts "
    "no liability for changes made to this message after it was sent."
)
GREETINGS = ["Hello support team,", "Hi,", "Dear support,", "Good morning,", "Hello,"]
CLOSINGS = ["Thanks in advance.", "Best regards,", "Kind regards,", "Thank you!", "Cheers,"]


class Corpus:
    """The mails of the run, from a fixed seed."""

    def __init__(
        self, seed: int, customers: list[Person], orgs: list[tuple[str, str]], targets: list[Target]
    ) -> None:
        from textgen import Text

        self.rng = random.Random(seed)  # noqa: S311 (a fixed seed: the same mails every run)
        self.text = Text(self.rng)
        self.customers = customers
        self.by_org: dict[int, list[Person]] = {}
        for c in customers:
            self.by_org.setdefault(c.org, []).append(c)
        self.orgs = orgs
        self.targets = targets
        files = random.Random(seed + 1)  # noqa: S311
        self.files = [
            ("screenshot.png", "image/png", png_file(files, ATTACHMENT_BYTES)),
            ("export.csv", "text/csv", csv_file(files, ATTACHMENT_BYTES)),
            ("error-screen.png", "image/png", png_file(files, ATTACHMENT_BYTES)),
            ("sync-log.csv", "text/csv", csv_file(files, ATTACHMENT_BYTES)),
        ]
        self._check_files()
        self.date = format_datetime(datetime.now(UTC))

    def _check_files(self) -> None:
        """The attachments must pass the upload rules (type by content), or the bench would
        measure refusals."""
        from app.utils.filetypes import SNIFF_BYTES, sniff

        for name, mime, data in self.files:
            found = sniff(data[:SNIFF_BYTES], file_name=name, declared_type=mime)
            assert found == mime, (name, found)

    def _body(self, paragraphs: int) -> str:
        r = self.rng
        parts = [self.text.description() for _ in range(paragraphs)]
        if r.random() < 0.5:
            parts.append(
                "What we checked so far:\n"
                + "\n".join(f"- {self.text.description()[:120]}" for _ in range(r.randint(2, 5)))
            )
        return "\n\n".join(parts)

    def _signature(self, person: Person) -> str:
        return SIGNATURE.format(
            name=person.name,
            org=self.orgs[person.org][0],
            phone=self.rng.randint(1000000, 9999999),
            email=person.email,
        )

    def _message(
        self,
        tag: str,
        i: int,
        sender: Person,
        to: str,
        subject: str,
        text: str,
        *,
        html: bool,
        attachment: bool,
        headers: dict[str, str] | None = None,
    ) -> bytes:
        r = self.rng
        domain = sender.email.rpartition("@")[2]
        msg = EmailMessage()
        msg["Received"] = (
            f"from mx.{domain} (mx.{domain} [198.51.100.{r.randint(1, 254)}]) by "
            f"mx.{MAIL_DOMAIN} (Postfix) with ESMTPS id {r.getrandbits(40):010X} for <{to}>; "
            f"{self.date}"
        )
        msg["Received"] = (
            f"from [10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}] "
            f"by mx.{domain} with ESMTPSA; {self.date}"
        )
        msg["DKIM-Signature"] = (
            f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=mail; h=from:to:subject:date; "
            f"bh={secrets.token_urlsafe(32)}; b={secrets.token_urlsafe(180)}"
        )
        msg["From"] = formataddr((sender.name, sender.email))
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = self.date
        msg["Message-ID"] = f"<mb-{tag}-{i:05d}.{r.getrandbits(48):012x}@mx.{domain}>"
        for name, value in (headers or {}).items():
            msg[name] = value
        msg["User-Agent"] = r.choice(
            ["Mozilla Thunderbird 128.4", "Microsoft Outlook 16.0", "Apple Mail (2.3774)"]
        )
        msg.set_content(text)
        if html:
            paragraphs = "".join(
                f"<p>{p.replace(chr(10), '<br>')}</p>" for p in text.split("\n\n") if p
            )
            msg.add_alternative(
                f"<html><body style='font-family:Calibri,sans-serif'>{paragraphs}</body></html>",
                subtype="html",
            )
        if attachment:
            name, mime, data = self.files[i % len(self.files)]
            maintype, subtype = mime.split("/")
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return msg.as_bytes()

    def new_ticket(self, tag: str, i: int, *, attachment: bool, marker: str | None) -> Mail:
        r = self.rng
        sender = r.choice(self.customers)
        title = self.text.title()
        subject = f"{title} [{marker}]" if marker else title
        text = (
            f"{r.choice(GREETINGS)}\n\n{self._body(r.randint(2, 6))}\n\n"
            f"{r.choice(CLOSINGS)}\n{self._signature(sender)}\n"
        )
        raw = self._message(
            tag,
            i,
            sender,
            SUPPORT,
            subject,
            text,
            html=r.random() < 0.5,
            attachment=attachment,
        )
        return Mail("new", sender.email, SUPPORT, wire(raw), attachment, marker)

    def reply(self, tag: str, i: int, *, attachment: bool) -> Mail:
        r = self.rng
        target = r.choice(self.targets)
        reply_text = self.text.reply(staff=False, internal=False)
        if r.random() < 0.5:
            # Answering the notification: to its Reply-To address, In-Reply-To its Message-ID.
            sender = target.creator
            to = f"support+{target.reply_token}@{MAIL_DOMAIN}"
            subject = f"Re: {target.subject}"
            headers = {"In-Reply-To": target.message_id, "References": target.message_id}
            quoted = (
                f"On {self.date}, ATUM DESK <{SUPPORT}> wrote:\n"
                f"> {target.subject}\n>\n> Your ticket #{target.number} was updated.\n"
                f"> {self.text.description()}\n>\n> Reply to this e-mail to add a comment.\n"
            )
        else:
            # A colleague (or the creator) writing anew about the ticket, number in the subject.
            sender = r.choice(self.by_org[target.org])
            to = SUPPORT
            subject = f"Re: [ATUM DESK #{target.number}] {target.title}"
            headers = {}
            quoted = ""
        text = (
            f"{r.choice(GREETINGS)}\n\n{reply_text}\n\n{self._body(r.randint(1, 3))}\n\n"
            f"{r.choice(CLOSINGS)}\n{self._signature(sender)}\n\n{quoted}"
        )
        raw = self._message(
            tag,
            i,
            sender,
            to,
            subject,
            text,
            html=r.random() < 0.5,
            attachment=attachment,
            headers=headers,
        )
        return Mail("reply", sender.email, to, wire(raw), attachment)

    def batch(self, tag: str, count: int, *, markers: bool = False) -> list[Mail]:
        """*count* mails: exactly 80 % new tickets, 20 % replies, 5 % with an attachment,
        shuffled; with *markers*, each new ticket's subject carries a unique marker."""
        r = self.rng
        replies = set(r.sample(range(count), round(count * (1 - NEW_SHARE))))
        attached = set(r.sample(range(count), round(count * ATTACHMENT_SHARE)))
        out = []
        for i in range(count):
            if i in replies:
                out.append(self.reply(tag, i, attachment=i in attached))
            else:
                marker = f"mbl-{RUN_TAG}-{i:05d}" if markers else None
                out.append(self.new_ticket(tag, i, attachment=i in attached, marker=marker))
        return out


# ---------------------------------------------------------------- an LMTP client (an MTA's side)


class LmtpError(Exception):
    pass


class Lmtp:
    """One LMTP connection, kept open for many transactions as Postfix's connection cache does."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Lmtp:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        client = cls(reader, writer)
        await client.expect(220)
        writer.write(b"LHLO mx.bench.client\r\n")
        await client.expect(250)
        return client

    async def reply(self) -> tuple[int, bytes]:
        lines = []
        while True:
            line = await self.reader.readline()
            if not line:
                raise LmtpError("connection closed")
            lines.append(line)
            if line[3:4] != b"-":
                return int(line[:3]), b"".join(lines)

    async def expect(self, code: int) -> None:
        got, text = await self.reply()
        if got != code:
            raise LmtpError(f"expected {code}, got {text!r}")

    async def send(self, mail: Mail) -> int:
        """One transaction; the DATA answer's code (one recipient)."""
        w = self.writer
        w.write(f"MAIL FROM:<{mail.sender}>\r\n".encode())
        await self.expect(250)
        w.write(f"RCPT TO:<{mail.rcpt}>\r\n".encode())
        code, _ = await self.reply()
        if code != 250:
            w.write(b"RSET\r\n")
            await self.expect(250)
            return code
        w.write(b"DATA\r\n")
        await self.expect(354)
        w.write(mail.data)
        await w.drain()
        code, _ = await self.reply()
        return code

    async def close(self) -> None:
        try:
            self.writer.write(b"QUIT\r\n")
            await self.reply()
        except (LmtpError, OSError):
            pass
        self.writer.close()


@dataclass
class Fed:
    seconds: float  # first transaction started → last answer
    codes: list[int]
    accepted_at: list[float]  # perf_counter of each answer
    late: list[float] = field(default_factory=list)  # paced: seconds behind schedule

    @property
    def accepted(self) -> int:
        return sum(1 for c in self.codes if c == 250)

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0


async def feed(port: int, mails: list[Mail], connections: int, rate: float | None = None) -> Fed:
    """Deliver *mails* over *connections* connections: as fast as the server answers, or (with
    *rate*) each at its scheduled moment, i / rate seconds after the start (open loop)."""
    clients = [await Lmtp.open(port) for _ in range(connections)]
    codes = [0] * len(mails)
    answered = [0.0] * len(mails)
    late: list[float] = []
    cursor = iter(range(len(mails)))
    start = time.perf_counter() + (0.2 if rate else 0.0)

    async def run(client: Lmtp) -> None:
        for i in cursor:
            if rate:
                due = start + i / rate
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                else:
                    late.append(-wait)
            codes[i] = await client.send(mails[i])
            answered[i] = time.perf_counter()

    begun = time.perf_counter() if not rate else start
    await asyncio.gather(*(run(c) for c in clients))
    seconds = max(answered) - begun
    for c in clients:
        await c.close()
    return Fed(seconds, codes, answered, late)


# ---------------------------------------------------------------- database


async def seed(uri: str, rng: random.Random) -> dict[str, Any]:
    """Organizations with their domains, customers, staff, the LMTP mailbox, the tickets the
    replies answer (through the ticket services), and a session for two staff members."""
    import asyncpg
    from generate import ORG_WORDS
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
    from textgen import Text

    from app.auth.deps import CurrentUser
    from app.auth.passwords import hash_password
    from app.auth.tokens import create_access_token
    from app.db.embedded import to_async_url
    from app.models.enums import Role
    from app.schemas.ticket import Accept, Assign, TicketCreate
    from app.services import tickets
    from app.services.mail_admin import ensure_default_mailbox
    from app.utils.clock import utcnow

    text = Text(rng)
    now = datetime.now(UTC)
    since = now - timedelta(days=400)
    orgs: list[tuple[uuid.UUID, str, str]] = []
    for i in range(ORGS):
        name = f"{ORG_WORDS[0][i % 10]} {ORG_WORDS[1][(i // 10) % 10]}"
        orgs.append((uuid.uuid4(), name, f"{name.lower().replace(' ', '-')}.example"))
    password_hash = hash_password(PASSWORD)
    users: list[tuple[Any, ...]] = []
    customers: list[Person] = []
    for j in range(CUSTOMERS):
        k = j % ORGS
        name = text.person()
        email = f"{name.lower().replace(' ', '.')}.{j}@{orgs[k][2]}"
        role = "customer_admin" if j < ORGS else "customer_user"
        uid = uuid.uuid4()
        users.append((uid, orgs[k][0], email, name, role))
        customers.append(Person(uid, k, email, name))
    staff: dict[str, list[uuid.UUID]] = {"manager": [], "agent": []}
    for i in range(MANAGERS + AGENTS):
        role = "manager" if i < MANAGERS else "agent"
        name = text.person()
        uid = uuid.uuid4()
        staff[role].append(uid)
        users.append((uid, None, f"{name.lower().replace(' ', '.')}.{i}@staff.example", name, role))
    conn = await asyncpg.connect(uri)
    try:
        await conn.copy_records_to_table(
            "organizations",
            records=[(o, n, "active", since, since) for o, n, _ in orgs],
            columns=["id", "name", "status", "created_at", "updated_at"],
        )
        await conn.copy_records_to_table(
            "organization_email_domains",
            records=[(d, o) for o, _, d in orgs],
            columns=["domain", "org_id"],
        )
        await conn.copy_records_to_table(
            "users",
            records=[(*u, password_hash, True, True, since, since) for u in users],
            columns=[
                "id",
                "org_id",
                "email",
                "name",
                "role",
                "password_hash",
                "is_active",
                "notify_enabled",
                "created_at",
                "updated_at",
            ],
        )
    finally:
        await conn.close()

    engine = create_async_engine(to_async_url(uri))
    made: list[tuple[int, int, str, Person]] = []
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            await ensure_default_mailbox(session, SUPPORT)
        manager = CurrentUser(
            id=staff["manager"][0],
            email="manager@staff.example",
            name="Bench Manager",
            role=Role.MANAGER,
            org_id=None,
            org_name=None,
            session_id=uuid.UUID(int=0),
        )
        for start in range(0, REPLY_TICKETS, 50):
            async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
                for _ in range(start, min(REPLY_TICKETS, start + 50)):
                    creator = rng.choice(customers)
                    actor = CurrentUser(
                        id=creator.id,
                        email=creator.email,
                        name=creator.name,
                        role=Role.CUSTOMER_USER,
                        org_id=orgs[creator.org][0],
                        org_name=orgs[creator.org][1],
                        session_id=uuid.UUID(int=0),
                    )
                    body = TicketCreate(title=text.title(), description=text.description())
                    ticket = await tickets.create(session, actor, body, utcnow())
                    await tickets.accept(session, manager, ticket.id, Accept(), utcnow())
                    await tickets.assign(
                        session,
                        manager,
                        ticket.id,
                        Assign(assignee_id=rng.choice(staff["agent"])),
                        utcnow(),
                    )
                    made.append((ticket.number, creator.org, ticket.title, creator))
    finally:
        await engine.dispose()

    secret = os.environ["ATUM_SECRET_KEY"]
    conn = await asyncpg.connect(uri)
    try:
        targets: list[Target] = []
        for number, org, title, creator in made:
            row = await conn.fetchrow(
                "SELECT o.message_id, o.reply_token, o.subject FROM notification_outbox o "
                "JOIN tickets t ON t.id = o.ticket_id WHERE t.number = $1 AND o.recipient_id = $2 "
                "ORDER BY o.created_at DESC LIMIT 1",
                number,
                creator.id,
            )
            assert row is not None and row["reply_token"], f"no notification for #{number}"
            targets.append(
                Target(number, org, title, creator, row[0], row["reply_token"], row["subject"])
            )
        reply_ticket = await conn.fetchval(
            "SELECT id FROM tickets WHERE number = $1", targets[0].number
        )
        sessions = []
        tokens: dict[str, str] = {}
        for label, uid in (("poller", staff["manager"][0]), ("reader", staff["agent"][0])):
            sid = uuid.uuid4()
            sessions.append((sid, uid, now + timedelta(days=1), now))
            tokens[label] = create_access_token(
                secret=secret, user_id=uid, session_id=sid, now=now, lifetime=timedelta(days=1)
            )
        await conn.copy_records_to_table(
            "auth_sessions",
            records=sessions,
            columns=["id", "user_id", "expires_at", "created_at"],
        )
    finally:
        await conn.close()
    return {
        "customers": customers,
        "orgs": [(n, d) for _, n, d in orgs],
        "targets": targets,
        "tokens": tokens,
        "detail_ticket": str(reply_ticket),
    }


BACKLOG = """
SELECT (SELECT count(*) FROM inbound_messages WHERE status = 'pending'),
       (SELECT count(*) FROM notification_outbox WHERE status IN ('pending', 'sending')
            AND (attempts = 0 OR next_attempt_at <= now())),
       (SELECT count(*) FROM ai_jobs WHERE status IN ('pending', 'running'))
"""


async def quiesce(uri: str, limit_seconds: float, what: str) -> float:
    """Wait until the worker has nothing left (stored mail, notifications, triage jobs), so that
    no measurement pays for the previous one; returns the seconds waited. Notifications wait
    ATUM_MAIL_COALESCE_SECONDS (60) before they are due: those are waited for too, not the
    retries of failed ones."""
    import asyncpg

    started = time.monotonic()
    conn = await asyncpg.connect(uri)
    try:
        while True:
            left = tuple(await conn.fetchrow(BACKLOG))
            if not any(left):
                return time.monotonic() - started
            if time.monotonic() - started > limit_seconds:
                log(f"  {what}: still busy after {limit_seconds:.0f} s (mail, outbox, ai: {left})")
                return time.monotonic() - started
            await asyncio.sleep(1)
    finally:
        await conn.close()


async def processing(
    uri: str, tag: str, started_wall: float, limit_seconds: float
) -> dict[str, Any]:
    """Wait until every stored mail of *tag* is processed; the outcome and the end-to-end rate
    (first mail sent → last mail processed, by the database's processed_at)."""
    import asyncpg

    like = f"<mb-{tag}-%"
    conn = await asyncpg.connect(uri)
    try:
        deadline = time.monotonic() + limit_seconds
        while True:
            pending = await conn.fetchval(
                "SELECT count(*) FROM inbound_messages WHERE message_id LIKE $1 "
                "AND status = 'pending'",
                like,
            )
            if not pending or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        statuses = {
            r[0]: r[1]
            for r in await conn.fetch(
                "SELECT status, count(*) FROM inbound_messages WHERE message_id LIKE $1 GROUP BY 1",
                like,
            )
        }
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE ticket_id IS NOT NULL AND comment_id IS NULL), "
            "count(*) FILTER (WHERE comment_id IS NOT NULL), "
            "extract(epoch FROM max(processed_at)), extract(epoch FROM min(received_at)), "
            "extract(epoch FROM max(received_at)) "
            "FROM inbound_messages WHERE message_id LIKE $1",
            like,
        )
        attachments = await conn.fetchval(
            "SELECT count(*) FROM ticket_attachments a WHERE a.created_at >= to_timestamp($1)",
            started_wall,
        )
        reasons = [
            f"{r[0]}: {r[1]} ({r[2]})"
            for r in await conn.fetch(
                "SELECT status, coalesce(reason, error), count(*) FROM inbound_messages "
                "WHERE message_id LIKE $1 AND status NOT IN ('done') GROUP BY 1, 2 LIMIT 10",
                like,
            )
        ]
    finally:
        await conn.close()
    last = float(row[2]) if row[2] is not None else None
    total = sum(statuses.values())
    return {
        "statuses": statuses,
        "tickets": row[0],
        "comments": row[1],
        "attachments": attachments,
        "not_done": reasons,
        "seconds": (last - started_wall) if last else None,
        "rate": total / (last - started_wall) if last else None,
        "stored_seconds": float(row[4]) - float(row[3]) if row[3] is not None else None,
    }


# ---------------------------------------------------------------- processes and CPU


class Cpu:
    """CPU seconds per process group, the bench database's PostgreSQL backends, this process
    (the feeding client) and the whole machine, between two snapshots."""

    def __init__(self, groups: dict[str, int], database: str) -> None:
        self.groups = groups
        self.database = database

    def snapshot(self) -> dict[str, float]:
        import psutil

        def used(p: Any) -> float:
            try:
                t = p.cpu_times()
                return float(t.user + t.system)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                return 0.0

        out: dict[str, float] = {}
        for label, pid in self.groups.items():
            try:
                root = psutil.Process(pid)
                out[label] = sum(used(p) for p in [root, *root.children(recursive=True)])
            except psutil.NoSuchProcess:
                out[label] = 0.0
        pg = 0.0
        for p in psutil.process_iter(["name", "cmdline"]):
            if p.info["name"] == "postgres" and self.database in " ".join(p.info["cmdline"] or []):
                pg += used(p)
        out["PostgreSQL (bench db backends)"] = pg
        out["bench client"] = used(psutil.Process())
        # The machine: processes (user, nice, system; guest time is already in user), the
        # kernel's interrupt work (loopback TCP and disk I/O land in softirq, charged to no
        # process), and time the hypervisor gave to other guests (steal).
        m = psutil.cpu_times()
        out["processes (machine)"] = float(m.user + m.nice + m.system)
        out["irq + softirq"] = float(getattr(m, "irq", 0.0) + getattr(m, "softirq", 0.0))
        out["steal"] = float(getattr(m, "steal", 0.0))
        return out

    @staticmethod
    def delta(a: dict[str, float], b: dict[str, float], seconds: float) -> dict[str, float]:
        """Cores used on average (CPU seconds / wall seconds) per label; "other processes": the
        machine's processes besides the ones of this run (other users' work, the database
        server's shared processes)."""
        if seconds <= 0:
            return {}
        out = {k: round((b[k] - a.get(k, 0.0)) / seconds, 2) for k in b}
        machine = ("processes (machine)", "irq + softirq", "steal")
        ours = sum(v for k, v in out.items() if k not in machine)
        # Never below zero: the per-process times are read a moment after the machine's.
        out["other processes"] = round(max(0.0, out["processes (machine)"] - ours), 2)
        return out


async def worker_time(uri: str, since: float, until: float) -> dict[str, Any]:
    """How the worker spent the window: its three kinds of work leave timestamps (mail
    processed, triage job finished, notification sent); runs of one kind without a pause of
    more than 0.5 s are that kind's slices. Seconds and events per kind."""
    import asyncpg

    queries = {
        "inbound mail": "SELECT extract(epoch FROM processed_at) FROM inbound_messages "
        "WHERE processed_at BETWEEN to_timestamp($1) AND to_timestamp($2)",
        "AI triage": "SELECT extract(epoch FROM finished_at) FROM ai_jobs "
        "WHERE finished_at BETWEEN to_timestamp($1) AND to_timestamp($2)",
        "notifications": "SELECT extract(epoch FROM sent_at) FROM notification_outbox "
        "WHERE sent_at BETWEEN to_timestamp($1) AND to_timestamp($2)",
    }
    conn = await asyncpg.connect(uri)
    out: dict[str, Any] = {}
    try:
        for kind, sql in queries.items():
            times = sorted(float(r[0]) for r in await conn.fetch(sql, since, until))
            slices: list[float] = []
            if times:
                first = last = times[0]
                for t in times[1:]:
                    if t - last > 0.5:
                        slices.append(last - first)
                        first = t
                    last = t
                slices.append(last - first)
            out[kind] = {
                "events": len(times),
                "slices": len(slices),
                "seconds": round(sum(slices), 1),
                "longest_slice": round(max(slices), 1) if slices else 0.0,
            }
    finally:
        await conn.close()
    out["window_seconds"] = round(until - since, 1)
    return out


class Poller(threading.Thread):
    """Lists the newest tickets every *interval* seconds (as a desk's NEW queue view would) and
    records when each marker is first seen (the moment the answer arrived)."""

    def __init__(self, port: int, token: str, interval: float) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "bench.mail.poll"}
        self.interval = interval
        self.seen: dict[str, float] = {}
        self.stopping = threading.Event()
        self.requests = 0
        self.errors = 0

    def _page(self, conn: http.client.HTTPConnection, cursor: str | None) -> dict[str, Any]:
        path = "/api/internal/tickets?limit=50" + (f"&cursor={cursor}" if cursor else "")
        conn.request("GET", path, headers=self.headers)
        response = conn.getresponse()
        body = response.read()
        self.requests += 1
        if response.status != 200:
            self.errors += 1
            return {"items": [], "next_cursor": None}
        result: dict[str, Any] = json.loads(body)
        return result

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stopping.is_set():
            t = time.perf_counter()
            try:
                cursor = None
                for _ in range(10):  # more pages only while everything on a page is new
                    page = self._page(conn, cursor)
                    now = time.perf_counter()
                    fresh = 0
                    for item in page["items"]:
                        found = MARKER.search(item.get("title", ""))
                        if found and found.group(0) not in self.seen:
                            self.seen[found.group(0)] = now
                            fresh += 1
                    cursor = page.get("next_cursor")
                    if not cursor or fresh < len(page["items"]):
                        break
            except (OSError, http.client.HTTPException, ValueError):
                self.errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            rest = self.interval - (time.perf_counter() - t)
            if rest > 0:
                self.stopping.wait(rest)


def reader(
    port: int, token: str, ticket: str, seconds: float, interval: float
) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 (this interpreter, this file)
        [
            sys.executable,
            __file__,
            "--reader",
            str(port),
            token,
            ticket,
            str(seconds),
            str(interval),
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def read_result(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = proc.communicate(timeout=600)
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 2) if values else float("nan"),
        "p95": round(pct(values, 95), 2),
        "max": round(max(values), 2) if values else float("nan"),
    }


# ---------------------------------------------------------------- the run


class Config:
    def __init__(self) -> None:
        self.mails = env_int("BENCH_MAILS", 10_000)
        self.accept_rounds = max(0, env_int("BENCH_ACCEPT_ROUNDS", 3))
        self.connections = env_int("BENCH_CONNECTIONS", 8)
        self.workers = max(1, env_int("BENCH_WORKERS", 1))
        self.rate = env_float("BENCH_MAIL_RATE", 50)
        self.latency_seconds = env_float("BENCH_MAIL_LATENCY_SECONDS", 60)
        self.baseline_seconds = env_float("BENCH_MAIL_BASELINE_SECONDS", 20)
        self.read_interval = env_float("BENCH_READ_INTERVAL_MS", 50) / 1000
        self.poll_interval = env_float("BENCH_POLL_MS", 100) / 1000
        self.drain_timeout = env_float("BENCH_DRAIN_TIMEOUT", 1500)
        self.strict = os.environ.get("BENCH_STRICT") == "1"


def child_env(uri: str, data: Path, sink_port: int, lmtp_port: int) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("ATUM_", "BENCH_"))}
    return {
        **keep,
        "ATUM_ENV": "production",
        "ATUM_SECRET_KEY": os.environ["ATUM_SECRET_KEY"],
        "ATUM_DATABASE_URL": uri,
        "ATUM_DATA_DIR": str(data),
        "ATUM_PUBLIC_URL": "https://desk.bench.example",
        "ATUM_LOG_LEVEL": "INFO",
        "ATUM_LOG_FORMAT": "json",
        "ATUM_DOCS_ENABLED": "false",
        "ATUM_MAIL_DOMAIN": MAIL_DOMAIN,
        # The per-customer hourly limit would refuse a bench's mails after 60 each; its counter
        # statement still runs on every new ticket.
        "ATUM_TICKET_CREATE_PER_HOUR": os.environ["ATUM_TICKET_CREATE_PER_HOUR"],
        "ATUM_SMTP_HOST": "127.0.0.1",
        "ATUM_SMTP_PORT": str(sink_port),
        "ATUM_LMTP_HOST": "127.0.0.1",
        "ATUM_LMTP_PORT": str(lmtp_port),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }


async def forget(uri: str, tag: str) -> int:
    """Delete the stored mails of an acceptance-only round (never processed: the worker was
    paused), so that they are not processed later and the next round can send the same mails."""
    import asyncpg

    conn = await asyncpg.connect(uri)
    try:
        done = await conn.execute(
            "DELETE FROM inbound_messages WHERE message_id LIKE $1 AND status = 'pending'",
            f"<mb-{tag}-%",
        )
        await conn.execute("VACUUM ANALYZE inbound_messages, inbound_raw")
        return int(done.split()[-1])
    finally:
        await conn.close()


class Run:
    """The processes and the phases of one run."""

    def __init__(self, cfg: Config, uri: str, database: str, tmp: Path, logs: Path) -> None:
        self.cfg, self.uri, self.database, self.tmp, self.logs = cfg, uri, database, tmp, logs
        self.procs: list[Any] = []
        self.sink: Any = None
        self.problems: list[str] = []
        self.result: dict[str, Any] = {}

    def start(self) -> None:
        from servers import (
            free_port,
            gunicorn_argv,
            production_workers,
            start,
            wait_http,
            wait_port,
        )
        from worker_bench import Sink

        self.sink = Sink()
        self.api_port, self.lmtp_port, self.ceiling_port = free_port(), free_port(), free_port()
        env = self.env = child_env(self.uri, self.tmp / "data", self.sink.port, self.lmtp_port)
        py = sys.executable
        self.workers = production_workers()
        logs = self.logs
        self.api = start(
            "API",
            gunicorn_argv(self.api_port, self.workers, self.tmp / "api.ctl"),
            env,
            logs / "api.log",
        )
        # One worker now; more (BENCH_WORKERS) once it is idle: see more_workers().
        self.worker_procs = [
            start("worker 1", [py, "-m", "app.cli", "worker"], env, logs / "worker-1.log")
        ]
        self.lmtp = start("LMTP listener", [py, "-m", "app.cli", "lmtp"], env, logs / "lmtp.log")
        self.ceiling_dir = self.tmp / "ceiling"
        self.ceiling = start(
            "ceiling",
            [py, __file__, "--ceiling", str(self.ceiling_port), str(self.ceiling_dir)],
            env,
            logs / "ceiling.log",
        )
        self.procs += [self.api, self.worker_procs[0], self.lmtp, self.ceiling]
        wait_http(f"http://127.0.0.1:{self.api_port}/api/health", self.api)
        wait_port(self.lmtp_port, self.lmtp)
        wait_port(self.ceiling_port, self.ceiling)
        self.cpu = Cpu(
            {
                "LMTP listener": self.lmtp.popen.pid,
                "worker": self.worker_procs[0].popen.pid,
                "API": self.api.popen.pid,
                "ceiling": self.ceiling.popen.pid,
                "sink": self.sink.proc.pid,
            },
            self.database,
        )

    def more_workers(self) -> None:
        """The other worker processes of BENCH_WORKERS, started once the first is idle: workers
        started together on a fresh database race to load docs/*.md into the knowledge base, and
        the loser exits (UniqueViolationError on uq_kb_passages_source_position)."""
        from servers import start

        for n in range(2, self.cfg.workers + 1):
            log_file = self.logs / f"worker-{n}.log"
            proc = start(
                f"worker {n}", [sys.executable, "-m", "app.cli", "worker"], self.env, log_file
            )
            self.worker_procs.append(proc)
            self.procs.append(proc)
            self.cpu.groups[f"worker {n}"] = proc.popen.pid

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        if self.sink is not None:
            self.sink.close()

    def quiesce(self, timeout: float, what: str) -> float:
        return asyncio.run(quiesce(self.uri, timeout, what))

    def ceiling_feed(self, mails: list[Mail], label: str) -> tuple[Fed, dict[str, float]]:
        for f in self.ceiling_dir.glob("*.eml"):
            f.unlink()
        a = self.cpu.snapshot()
        fed = asyncio.run(feed(self.ceiling_port, mails, self.cfg.connections))
        b = self.cpu.snapshot()
        files = len(list(self.ceiling_dir.glob("*.eml")))
        if fed.accepted != len(mails) or files != len(mails):
            self.problems.append(f"{label}: the ceiling took {fed.accepted}, wrote {files} files")
        for f in self.ceiling_dir.glob("*.eml"):
            f.unlink()
        log(f"  ceiling:  {fed.rate:7.0f} mails/s ({fed.seconds:.1f} s)")
        return fed, Cpu.delta(a, b, fed.seconds)

    def listener_feed(self, mails: list[Mail], label: str) -> tuple[Fed, dict[str, float]]:
        a = self.cpu.snapshot()
        fed = asyncio.run(feed(self.lmtp_port, mails, self.cfg.connections))
        b = self.cpu.snapshot()
        if fed.accepted != len(mails):
            codes = sorted(set(fed.codes))
            self.problems.append(f"{label}: the listener took {fed.accepted} (codes {codes})")
        return fed, Cpu.delta(a, b, fed.seconds)

    def acceptance(self, mails: list[Mail], tag: str) -> list[dict[str, Any]]:
        """The listener alone against the ceiling: the worker is paused while the listener is
        fed, and what was stored is deleted afterwards (never processed)."""
        rounds = []
        for k in range(1, self.cfg.accept_rounds + 1):
            log(f"acceptance round {k} (worker paused)")
            fed_c, cpu_c = self.ceiling_feed(mails, f"acceptance round {k}")
            for w in self.worker_procs:
                w.pause()
            try:
                fed_a, cpu_a = self.listener_feed(mails, f"acceptance round {k}")
                forgotten = asyncio.run(forget(self.uri, tag))
            finally:
                for w in self.worker_procs:
                    w.resume()
            if forgotten != len(mails):
                self.problems.append(f"acceptance round {k}: {forgotten} stored mails deleted")
            ratio = fed_a.rate / fed_c.rate
            log(f"  listener: {fed_a.rate:7.0f} mails/s ({fed_a.seconds:.1f} s), {ratio:.1%}")
            rounds.append(
                {
                    "round": k,
                    "ceiling_rate": fed_c.rate,
                    "ceiling_seconds": fed_c.seconds,
                    "app_rate": fed_a.rate,
                    "app_seconds": fed_a.seconds,
                    "ratio": ratio,
                    "cpu_cores": {"ceiling": cpu_c, "listener": cpu_a},
                }
            )
        return rounds

    def production(self, mails: list[Mail], tag: str) -> dict[str, Any]:
        """The mails through the listener with the worker running, as deployed: acceptance,
        then until the last of them is a ticket or a comment."""
        cfg = self.cfg
        log("production round (worker running)")
        fed_c, cpu_c = self.ceiling_feed(mails, "production round")
        self.quiesce(300, "before the listener")
        wall = time.time()
        a = self.cpu.snapshot()
        fed_a, cpu_a = self.listener_feed(mails, "production round")
        ratio = fed_a.rate / fed_c.rate
        log(
            f"  listener: {fed_a.rate:7.0f} mails/s ({fed_a.seconds:.1f} s), {ratio:.1%} of the "
            "ceiling; the worker processes them..."
        )
        outcome = asyncio.run(processing(self.uri, tag, wall, cfg.drain_timeout))
        c = self.cpu.snapshot()
        end = wall + (outcome["seconds"] or 0.0)
        cpu_e2e = Cpu.delta(a, c, time.time() - wall)
        slices = asyncio.run(worker_time(self.uri, wall, end))
        expected_new = round(cfg.mails * NEW_SHARE)
        expected_att = round(cfg.mails * ATTACHMENT_SHARE)
        if (
            outcome["statuses"] != {"done": cfg.mails}
            or outcome["tickets"] != expected_new
            or outcome["comments"] != cfg.mails - expected_new
            or outcome["attachments"] != expected_att
        ):
            self.problems.append(
                f"production round: expected {expected_new} tickets, {cfg.mails - expected_new} "
                f"comments, {expected_att} attachments, all done; got {outcome}"
            )
        log(
            f"  end to end: {outcome['rate'] or 0:7.1f} mails/s ({outcome['seconds'] or 0:.0f} s "
            f"from the first mail to the last processed); {outcome['tickets']} tickets, "
            f"{outcome['comments']} comments, {outcome['attachments']} attachments, "
            f"{outcome['statuses']}"
        )
        log(
            "  worker time: "
            + ", ".join(
                f"{k} {v['seconds']:.0f} s ({v['events']} in {v['slices']} slices)"
                for k, v in slices.items()
                if isinstance(v, dict)
            )
        )
        quiet = self.quiesce(cfg.drain_timeout, "after the production round")
        log(f"  worker idle again {quiet:.0f} s later (notifications, triage)")
        return {
            "mails": len(mails),
            "wire_bytes": sum(len(m.data) for m in mails),
            "ceiling_rate": fed_c.rate,
            "ceiling_seconds": fed_c.seconds,
            "app_rate": fed_a.rate,
            "app_seconds": fed_a.seconds,
            "ratio": ratio,
            "e2e_rate": outcome["rate"],
            "e2e_seconds": outcome["seconds"],
            "after_seconds": quiet,
            "outcome": outcome,
            "worker_time": slices,
            "cpu_cores": {"ceiling": cpu_c, "listener": cpu_a, "e2e": cpu_e2e},
        }

    def latency(self, corpus: Corpus, tokens: dict[str, str], ticket: str) -> None:
        """A fixed rate of the same mix: 250 → visible for every new ticket, and the API's reads
        before, during and after."""
        cfg = self.cfg
        count = round(cfg.rate * cfg.latency_seconds)
        mails = corpus.batch("lat", count, markers=True)
        markers = {i: m.marker for i, m in enumerate(mails) if m.marker}
        log(
            f"latency: {count} mails at {cfg.rate:.0f}/s ({len(markers)} new tickets with a "
            f"marker), reads every {cfg.read_interval * 1000:.0f} ms before, during and after"
        )
        port = self.api_port
        poller = Poller(port, tokens["poller"], cfg.poll_interval)
        poller.start()
        time.sleep(2)
        before = read_result(
            reader(port, tokens["reader"], ticket, cfg.baseline_seconds, cfg.read_interval)
        )
        during_proc = reader(port, tokens["reader"], ticket, cfg.latency_seconds, cfg.read_interval)
        a = self.cpu.snapshot()
        fed = asyncio.run(feed(self.lmtp_port, mails, 4, rate=cfg.rate))
        b = self.cpu.snapshot()
        during = read_result(during_proc)
        cpu_latency = Cpu.delta(a, b, fed.seconds)
        deadline = time.monotonic() + cfg.drain_timeout
        while time.monotonic() < deadline and len(poller.seen) < len(markers):
            time.sleep(0.2)
        caught_up = time.perf_counter() - (fed.accepted_at[-1] if fed.accepted_at else 0.0)
        self.quiesce(cfg.drain_timeout, "after the latency phase")
        after = read_result(
            reader(port, tokens["reader"], ticket, cfg.baseline_seconds, cfg.read_interval)
        )
        poller.stopping.set()
        poller.join()
        latencies = []
        missing = 0
        for i, marker in markers.items():
            seen = poller.seen.get(marker or "")
            if seen is None or fed.codes[i] != 250:
                missing += 1
            else:
                latencies.append(seen - fed.accepted_at[i])
        if missing:
            self.problems.append(f"latency: {missing} new tickets never seen in the API")
        ranked = latencies + [float("inf")] * missing  # never seen: infinitely late
        # Latency over time: the mails of each tenth of the phase, in send order.
        tenth = max(1, len(markers) // 10)
        order = sorted(markers)
        trend = []
        for s in range(0, len(order), tenth):
            part = [
                poller.seen[markers[i] or ""] - fed.accepted_at[i]
                for i in order[s : s + tenth]
                if (markers[i] or "") in poller.seen
            ]
            if part:
                trend.append(round(statistics.median(part), 2))
        self.result["latency"] = {
            "mails": count,
            "new_tickets": len(markers),
            "rate_target": cfg.rate,
            "rate_achieved": fed.accepted / fed.seconds,
            "accepted": fed.accepted,
            "late_sends": len(fed.late),
            "max_late_s": max(fed.late) if fed.late else 0.0,
            "missing": missing,
            "p50_s": pct(ranked, 50),
            "p95_s": pct(ranked, 95),
            "p99_s": pct(ranked, 99),
            "max_s": max(ranked) if ranked else float("nan"),
            "min_s": min(latencies) if latencies else float("nan"),
            "median_by_tenth_s": trend,
            "last_seen_after_last_250_s": round(caught_up, 1),
            "poller": {
                "interval_ms": cfg.poll_interval * 1000,
                "requests": poller.requests,
                "errors": poller.errors,
            },
            "cpu_cores": cpu_latency,
        }
        reads: dict[str, Any] = {}
        for kind in ("list", "detail"):
            base = before[kind] + after[kind]
            reads[kind] = {
                "before": summary_ms(before[kind]),
                "during": summary_ms(during[kind]),
                "after": summary_ms(after[kind]),
                "baseline": summary_ms(base),
                "ratio_p50": statistics.median(during[kind]) / statistics.median(base),
                "ratio_p95": pct(during[kind], 95) / pct(base, 95),
            }
        reads["errors"] = before["errors"] + during["errors"] + after["errors"]
        if reads["errors"]:
            self.problems.append(f"reads: {reads['errors']} failed requests")
        self.result["reads"] = reads
        lat = self.result["latency"]
        log(
            f"  250 → visible: p50 {lat['p50_s']:.2f} s, p95 {lat['p95_s']:.2f} s, max "
            f"{lat['max_s']:.2f} s ({lat['rate_achieved']:.1f} mails/s achieved; median by "
            f"tenth of the phase {trend})"
        )
        for kind in ("list", "detail"):
            r = reads[kind]
            log(
                f"  {kind:6}: p50 {r['baseline']['p50']:.1f} → {r['during']['p50']:.1f} ms "
                f"(x{r['ratio_p50']:.2f}), p95 {r['baseline']['p95']:.1f} → "
                f"{r['during']['p95']:.1f} ms (x{r['ratio_p95']:.2f})"
            )


def code_version() -> dict[str, Any]:
    """The commit the processes ran, and whether the app had uncommitted changes (others may be
    editing while a bench runs)."""

    def git(*args: str) -> str:
        out = subprocess.run(  # noqa: S603 (fixed arguments)
            ["git", *args],  # noqa: S607 (git from PATH)
            cwd=BENCH.parent,
            capture_output=True,
            text=True,
            check=False,
        )
        return out.stdout.strip()

    changed = git("status", "--porcelain", "--", "api/app", "api/migrations").splitlines()
    return {
        "commit": git("rev-parse", "HEAD"),
        "subject": git("log", "-1", "--format=%s")[:120],
        "uncommitted_app_files": [line[3:] for line in changed],
    }


def main() -> int:
    cfg = Config()
    started = time.time()
    code = code_version()
    # Every process of the run (this one too: the seed signs reply tokens) shares these.
    os.environ["ATUM_SECRET_KEY"] = secrets.token_urlsafe(48)
    os.environ["ATUM_MAIL_DOMAIN"] = MAIL_DOMAIN
    os.environ["ATUM_TICKET_CREATE_PER_HOUR"] = "1000000000"
    from common import API, RESULTS, drop_database, recreate_database
    from run import machine_facts

    from app.db import migrations
    from app.db.embedded import to_async_url

    os.chdir(API)
    machine = machine_facts()
    database = f"atum_mailbench_{uuid.uuid4().hex[:8]}"
    log(f"mail bench: database {database}")
    uri = asyncio.run(recreate_database(database))
    logs = RESULTS / "logs" / "mail"
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("*.log"):
        old.unlink()
    tmp = tempfile.TemporaryDirectory(prefix="atum-mailbench-")
    run = Run(cfg, uri, database, Path(tmp.name), logs)
    try:
        migrations.upgrade(to_async_url(uri))
        rng = random.Random(SEED)  # noqa: S311
        t = time.perf_counter()
        seeded = asyncio.run(seed(uri, rng))
        log(
            f"seeded {ORGS} organizations with domains, {CUSTOMERS} customers, {MANAGERS} "
            f"managers, {AGENTS} agents, {REPLY_TICKETS} tickets to reply to "
            f"({time.perf_counter() - t:.1f} s)"
        )
        corpus = Corpus(SEED + 2, seeded["customers"], seeded["orgs"], seeded["targets"])
        run.start()
        waited = run.quiesce(600, "seed")
        log(f"worker idle after the seed's notifications and triage ({waited:.0f} s)")
        run.more_workers()
        t = time.perf_counter()
        mails = corpus.batch("r", cfg.mails)
        size = sum(len(m.data) for m in mails)
        log(
            f"{len(mails)} mails built ({size / 1e6:.0f} MB on the wire, "
            f"{time.perf_counter() - t:.1f} s, untimed)"
        )
        run.result["acceptance"] = run.acceptance(mails, "r")
        run.result["production"] = run.production(mails, "r")
        del mails
        run.latency(corpus, seeded["tokens"], seeded["detail_ticket"])
        sent, distinct = run.sink.count()
        run.result["notifications_sent"] = {"mails": sent, "distinct": distinct}
        for proc in run.procs:
            if not proc.alive():
                run.problems.append(f"{proc.name} exited early: see {proc.log}")
    finally:
        run.stop()
        try:
            asyncio.run(drop_database(database))
        finally:
            tmp.cleanup()

    machine["load_at_end"] = os.getloadavg()
    doc = {
        "date": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "duration_seconds": round(time.time() - started),
        "command": "cd api && "
        + "".join(f"{k}={v} " for k, v in sorted(os.environ.items()) if k.startswith("BENCH_"))
        + "uv run --frozen python ../bench/mail_bench.py",
        "code": code,
        "config": dict(vars(cfg)),
        "seed": {
            "organizations": ORGS,
            "customers": CUSTOMERS,
            "managers": MANAGERS,
            "agents": AGENTS,
            "reply_tickets": REPLY_TICKETS,
            "api_workers": run.workers,
        },
        "machine": machine,
        "problems": run.problems,
        **run.result,
    }
    text = report(doc)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "mail-latest.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    (RESULTS / "mail-latest.md").write_text(text)
    print("\n" + text, flush=True)
    failed = "| FAIL |" in text or bool(run.problems)
    return 1 if failed and cfg.strict else 0


# ---------------------------------------------------------------- the report


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def cpu_table(rows: list[tuple[str, dict[str, float]]]) -> list[str]:
    present = {k for _, c in rows for k in c}
    workers = sorted(k for k in present if k.startswith("worker"))
    labels = [
        "bench client",
        "LMTP listener",
        "ceiling",
        *workers,
        "PostgreSQL (bench db backends)",
        "API",
        "sink",
        "other processes",
        "irq + softirq",
        "steal",
    ]
    lines = ["| phase | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for title, c in rows:
        lines.append(f"| {title} | " + " | ".join(f"{c.get(k, 0):.2f}" for k in labels) + " |")
    return lines


def report(doc: dict[str, Any]) -> str:
    cfg, machine = doc["config"], doc["machine"]
    acceptance = doc.get("acceptance") or []
    prod = doc.get("production")
    lat = doc.get("latency")
    reads = doc.get("reads")
    lines = ["# Mail ingest benchmark", ""]
    lines.append(
        f"{doc['date']}, {doc['duration_seconds']} s. Command: `{doc['command']}`. Written by "
        "`bench/mail_bench.py`; see bench/README.md."
    )
    lines.append("")
    code = doc.get("code")
    if code:
        changed = code["uncommitted_app_files"]
        lines.append(
            f"Code: commit {code['commit'][:10]} ({code['subject']}); "
            + (
                f"uncommitted changes in {', '.join(changed)}."
                if changed
                else "no uncommitted changes under api/app and api/migrations."
            )
            + f" {cfg.get('workers', 1)} worker process(es), {doc['seed']['api_workers']} API "
            "workers."
        )
        lines.append("")
    lines.append(
        f"Machine: {machine['cores']} cores ({machine['cpu']}), "
        f"{machine['memory_bytes'] / 2**30:.0f} GiB, Linux {machine['kernel']}, Python "
        f"{machine['python']}; load average {machine['load_at_start'][0]:.2f} at the start, "
        f"{machine['load_at_end'][0]:.2f} at the end. The feeding client, the listener, the "
        "worker, the API, PostgreSQL and the sink all share these cores."
    )
    lines.append("")
    lines.append("| figure | measured | target | verdict |")
    lines.append("|---|---|---|---|")
    mix = (
        f"{cfg['mails']:,} mails (80 % new tickets, 20 % replies, 5 % with a 200 KB attachment), "
        f"{cfg['connections']} LMTP connections"
    )
    if acceptance:
        ratio = statistics.median(r["ratio"] for r in acceptance)
        app = statistics.median(r["app_rate"] for r in acceptance)
        ceil_ = statistics.median(r["ceiling_rate"] for r in acceptance)
        lines.append(
            f"| LMTP acceptance, listener alone (worker paused) / bare aiosmtpd LMTP writing "
            f"files; {mix}; median of {len(acceptance)} rounds | {app:.0f} / {ceil_:.0f} "
            f"mails/s = **{ratio:.1%}** | ≥ {ACCEPT_TARGET:.0%} | "
            f"{verdict(ratio >= ACCEPT_TARGET)} |"
        )
    if prod:
        lines.append(
            f"| LMTP acceptance as deployed (the worker processing alongside) / bare aiosmtpd; "
            f"same mails; 1 round | {prod['app_rate']:.0f} / {prod['ceiling_rate']:.0f} mails/s "
            f"= **{prod['ratio']:.1%}** | ≥ {ACCEPT_TARGET:.0%} | "
            f"{verdict(prod['ratio'] >= ACCEPT_TARGET)} |"
        )
        lines.append(
            "| end to end: first mail sent → last mail a ticket or comment (same round) | "
            f"**{(prod['e2e_rate'] or 0):.1f} mails/s** ({(prod['e2e_seconds'] or 0):.0f} s) | "
            "(reported) | - |"
        )
    if lat:
        lines.append(
            f"| LMTP `250` → ticket visible in the API at {lat['rate_target']:.0f} mails/s for "
            f"{cfg['latency_seconds']:.0f} s ({lat['new_tickets']:,} new tickets): p50 / p95 / "
            f"max | {lat['p50_s']:.2f} / **{lat['p95_s']:.2f}** / {lat['max_s']:.2f} s | p95 < "
            f"{LATENCY_TARGET_S:.0f} s | {verdict(lat['p95_s'] < LATENCY_TARGET_S)} |"
        )
    if reads:
        for kind, title in (("list", "desk ticket list"), ("detail", "ticket detail")):
            r = reads[kind]
            lines.append(
                f"| API read during that ingest / without it: {title}; median (p95) | "
                f"{r['during']['p50']:.1f} / {r['baseline']['p50']:.1f} ms = "
                f"**x{r['ratio_p50']:.2f}** (p95 {r['during']['p95']:.1f} / "
                f"{r['baseline']['p95']:.1f} ms = x{r['ratio_p95']:.2f}) | median ≤ "
                f"x{READ_TARGET:.2f} | {verdict(r['ratio_p50'] <= READ_TARGET)} |"
            )
    lines.append("")
    if doc["problems"]:
        lines.append("**Problems:** " + "; ".join(str(p) for p in doc["problems"]))
        lines.append("")
    cpu_rows: list[tuple[str, dict[str, float]]] = []
    if acceptance or prod:
        lines.append("## Throughput")
        lines.append("")
        lines.append(
            "| round | ceiling mails/s | listener mails/s | listener/ceiling | end to end mails/s |"
        )
        lines.append("|---|---|---|---|---|")
        for r in acceptance:
            lines.append(
                f"| acceptance {r['round']} (worker paused) | {r['ceiling_rate']:.0f} | "
                f"{r['app_rate']:.0f} | {r['ratio']:.1%} | - |"
            )
            cpu_rows.append((f"acceptance {r['round']}: ceiling", r["cpu_cores"]["ceiling"]))
            cpu_rows.append((f"acceptance {r['round']}: listener", r["cpu_cores"]["listener"]))
        if prod:
            lines.append(
                f"| as deployed (worker running) | {prod['ceiling_rate']:.0f} | "
                f"{prod['app_rate']:.0f} | {prod['ratio']:.1%} | {(prod['e2e_rate'] or 0):.1f} |"
            )
            cpu_rows.append(("as deployed: ceiling", prod["cpu_cores"]["ceiling"]))
            cpu_rows.append(("as deployed: listener", prod["cpu_cores"]["listener"]))
            cpu_rows.append(("as deployed: first mail → last processed", prod["cpu_cores"]["e2e"]))
        lines.append("")
        if prod:
            o = prod["outcome"]
            lines.append(
                f"The round's {prod['mails']:,} mails ({prod['wire_bytes'] / 1e6:.0f} MB on the "
                f"wire) became {o['tickets']:,} tickets, {o['comments']:,} comments and "
                f"{o['attachments']} attachments; statuses: "
                + ", ".join(f"{k} {v:,}" for k, v in sorted(o["statuses"].items()))
                + "."
            )
            lines.append("")
            w = prod["worker_time"]
            lines.append(
                f"How the worker spent those {w['window_seconds']:.0f} s (runs of one kind of work "
                "without a pause over 0.5 s, from the rows' timestamps):"
            )
            lines.append("")
            lines.append("| work | events | slices | seconds | longest slice s |")
            lines.append("|---|---|---|---|---|")
            for kind, v in w.items():
                if isinstance(v, dict):
                    lines.append(
                        f"| {kind} | {v['events']:,} | {v['slices']} | {v['seconds']:.0f} | "
                        f"{v['longest_slice']:.1f} |"
                    )
            lines.append("")
    if lat:
        lines.append("## Latency at a fixed rate")
        lines.append("")
        lines.append(
            f"{lat['mails']:,} mails of the same mix sent open loop at {lat['rate_target']:.0f}/s "
            f"over 4 connections ({lat['rate_achieved']:.1f}/s achieved; {lat['late_sends']} "
            f"sends behind schedule, at most {lat['max_late_s']:.2f} s). A poller lists the 50 "
            f"newest tickets every {lat['poller']['interval_ms']:.0f} ms as a manager "
            f"({lat['poller']['requests']:,} requests, {lat['poller']['errors']} errors); a "
            "ticket's time runs from the `250` of its mail to the arrival of the first list "
            f"answer that holds it. min {lat['min_s']:.2f} s, p50 {lat['p50_s']:.2f} s, p95 "
            f"{lat['p95_s']:.2f} s, p99 {lat['p99_s']:.2f} s, max {lat['max_s']:.2f} s; never "
            f"seen: {lat['missing']}. Median per tenth of the phase, in send order: "
            + ", ".join(f"{x:.1f}" for x in lat["median_by_tenth_s"])
            + f" s; the last ticket appeared {lat['last_seen_after_last_250_s']:.0f} s after "
            "the last `250`."
        )
        lines.append("")
        cpu_rows.append((f"latency phase ({lat['rate_target']:.0f} mails/s)", lat["cpu_cores"]))
    if reads:
        lines.append("## API reads")
        lines.append("")
        lines.append(
            f"One connection, one request every {cfg['read_interval'] * 1000:.0f} ms, alternating "
            "the desk list (`GET /api/internal/tickets`, 50 newest) and one ticket's detail "
            "(`GET /api/internal/tickets/{id}`), as an agent, from a process of its own; the "
            "poller runs in all three windows. Baseline: the windows before and after the ingest "
            "together (after: once the worker is idle again). Verdict on the median."
        )
        lines.append("")
        lines.append("| read | window | n | p50 ms | p95 ms | max ms |")
        lines.append("|---|---|---|---|---|---|")
        for kind in ("list", "detail"):
            for window in ("before", "during", "after"):
                s = reads[kind][window]
                lines.append(
                    f"| {kind} | {window} | {s['n']} | {s['p50']:.1f} | {s['p95']:.1f} | "
                    f"{s['max']:.1f} |"
                )
        lines.append("")
    if cpu_rows:
        lines.append("## CPU")
        lines.append("")
        lines.append(
            "Cores used on average per phase (CPU seconds / wall seconds), of "
            f"{doc['machine']['cores']}. PostgreSQL: the backends of the bench database only; "
            "other processes: the rest of the machine's processes (other users' work, the "
            "database server's shared WAL writer and checkpointer); irq + softirq: the kernel's "
            "interrupt work, charged to no process (loopback TCP, disk I/O); steal: time the "
            "hypervisor gave to other guests."
        )
        lines.append("")
        lines += cpu_table(cpu_rows)
        lines.append("")
    sent = doc.get("notifications_sent")
    if sent:
        lines.append(
            f"Notifications the worker delivered to the SMTP sink during the run: "
            f"{sent['mails']:,}."
        )
        lines.append("")
    return "\n".join(lines)


def rerender() -> int:
    """`mail_bench.py --report`: write mail-latest.md again from mail-latest.json."""
    from common import RESULTS

    doc = json.loads((RESULTS / "mail-latest.json").read_text())
    text = report(doc)
    (RESULTS / "mail-latest.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--report"]:
        raise SystemExit(rerender())
    if len(sys.argv) == 4 and sys.argv[1] == "--ceiling":
        serve_ceiling(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 7 and sys.argv[1] == "--reader":
        serve_reader(
            int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6])
        )
    else:
        raise SystemExit(main())
