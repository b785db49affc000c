"""Worker benchmark: N pending outbox rows delivered to a local aiosmtpd sink, against the ceiling
of the same aiosmtplib client sending the same mails in a bare loop to the same sink, same run.

    cd api && uv run python ../bench/worker_bench.py      # BENCH_MAILS=10000, BENCH_ROUNDS=5

Creates a database of its own on the server of ATUM_DATABASE_URL (else the embedded PostgreSQL
under the data dir), migrates it, inserts the rows with COPY, then per round: the ceiling (one
SMTP connection, mails built beforehand, no database) and one in-process Worker draining the
outbox (batch size from ATUM_MAIL_BATCH_SIZE). Checks that every mail arrived exactly once and
every row ended "sent", prints a table and drops the database. The sink runs in a process of its
own, as a real MTA would. Target: the worker at 50 % of the ceiling or more (median of rounds).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

API = Path(__file__).resolve().parents[1] / "api"
sys.path.insert(0, str(API))

MAIL_HOST = "bench.atum.test"
TARGET = 0.5


# ---------------------------------------------------------------- the sink (its own process)


class _Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: Counter[str] = Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.content
        start = content.find(b"Message-ID: ")
        end = content.find(b"\r\n", start)
        with self.lock:
            self.ids[content[start + 12 : end].decode()] += 1
        return "250 OK"


def serve_sink(port: int) -> None:
    """Child process: count Message-IDs; answer "count" on stdin with "<mails> <distinct>"."""
    from aiosmtpd.controller import Controller

    handler = _Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "count":
            with handler.lock:
                print(sum(handler.ids.values()), len(handler.ids), flush=True)
        elif line.strip() == "reset":
            with handler.lock:
                handler.ids.clear()
            print("ok", flush=True)
    controller.stop()


class Sink:
    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port: int = sock.getsockname()[1]
        self.proc = subprocess.Popen(  # noqa: S603 (this interpreter, this file)
            [sys.executable, __file__, "--sink", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._ask(None) == "ready"

    def _ask(self, command: str | None) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if command is not None:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def count(self) -> tuple[int, int]:
        mails, distinct = self._ask("count").split()
        return int(mails), int(distinct)

    def reset(self) -> None:
        assert self._ask("reset") == "ok"

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


# ---------------------------------------------------------------- database


async def _admin_connection(server_url: str) -> Any:
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    return await asyncpg.connect(
        user=url.username,
        password=url.password,
        database=url.database,
        host=url.query.get("host") or url.host,
        port=url.port,
    )


def server_url() -> str:
    from sqlalchemy.engine import make_url

    from app.config import get_settings
    from app.db.embedded import embedded_server_uri

    explicit = os.environ.get("ATUM_DATABASE_URL")
    if explicit:
        return make_url(explicit).set(database="postgres").render_as_string(hide_password=False)
    os.environ.setdefault("PGSERVER_QUIET", "1")
    return embedded_server_uri(get_settings().data_dir, database="postgres")


async def create_database(server: str) -> str:
    from sqlalchemy.engine import make_url

    name = f"atum_bench_{uuid.uuid4().hex[:12]}"
    conn = await _admin_connection(server)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


async def drop_database(server: str, url: str) -> None:
    from sqlalchemy.engine import make_url

    conn = await _admin_connection(server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await conn.close()


def rows(count: int) -> list[tuple[Any, ...]]:
    body_text = "Your ticket is now being worked on.\n" * 8
    body_html = "<p style='margin:0 0 12px'>Your ticket is now being worked on.</p>\n" * 8
    tag = uuid.uuid4().hex[:8]
    return [
        (
            uuid.uuid4(),
            f"bench:{tag}:{i}",
            f"person-{i}@example.test",
            "status",
            f"[ATUM DESK #{1000 + i}] Printer on fire — being worked on",
            body_text,
            body_html,
        )
        for i in range(count)
    ]


async def insert_rows(url: str, data: list[tuple[Any, ...]]) -> None:
    conn = await _admin_connection(url)
    try:
        await conn.copy_records_to_table(
            "notification_outbox",
            records=data,
            columns=[
                "id",
                "idempotency_key",
                "recipient_email",
                "template",
                "subject",
                "body_text",
                "body_html",
            ],
        )
    finally:
        await conn.close()


async def outbox_status(url: str) -> dict[str, int]:
    conn = await _admin_connection(url)
    try:
        found = await conn.fetch("SELECT status, count(*) FROM notification_outbox GROUP BY 1")
        return {r[0]: r[1] for r in found}
    finally:
        await conn.close()


# ---------------------------------------------------------------- the runs


async def bare_loop(settings: Any, data: list[tuple[Any, ...]], *, reuse: bool) -> float:
    """The same client sending the same mails (built beforehand, untimed) with no outbox: over one
    connection (the ceiling), or one connection per mail (``aiosmtplib.send``)."""
    import aiosmtplib

    from app.worker import Claimed, build_message, connection, envelope_sender

    sender = envelope_sender(settings)
    mails = [
        (r[2], build_message(Claimed(r[0], r[2], r[4], r[5], r[6], 1), settings)) for r in data
    ]
    started = time.perf_counter()
    if reuse:
        smtp = connection(settings)
        await smtp.connect()
        for recipient, message in mails:
            await smtp.sendmail(sender, [recipient], message)
        await smtp.quit()
    else:
        for recipient, message in mails:
            await aiosmtplib.send(
                message,
                sender=sender,
                recipients=[recipient],
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                start_tls=False,
            )
    return time.perf_counter() - started


async def reset_outbox(url: str) -> None:
    conn = await _admin_connection(url)
    try:
        await conn.execute(
            "UPDATE notification_outbox SET status = 'pending', attempts = 0, sent_at = NULL, "
            "next_attempt_at = now(), lease_token = NULL, lease_until = NULL"
        )
        await conn.execute("VACUUM ANALYZE notification_outbox")
    finally:
        await conn.close()


async def worker_run(settings: Any, url: str) -> tuple[float, int]:
    """One in-process Worker draining the outbox; (seconds, mails it marked sent)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.db.embedded import to_async_url
    from app.worker import Worker

    engine = create_async_engine(to_async_url(url))
    try:
        worker = Worker(settings, engine)
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        started = time.perf_counter()
        await worker.drain()
        return time.perf_counter() - started, worker.delivered
    finally:
        await engine.dispose()


@dataclass
class Round:
    ceiling: float
    worker: float


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


async def main() -> int:
    from app.config import Settings
    from app.db import migrations
    from app.db.embedded import to_async_url

    count = int(os.environ.get("BENCH_MAILS", "10000"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    sink = Sink()
    settings = Settings(smtp_host="127.0.0.1", smtp_port=sink.port, mail_host=MAIL_HOST)
    server = server_url()
    url = await create_database(server)
    results: list[Round] = []
    problems: list[str] = []
    try:
        await asyncio.to_thread(migrations.upgrade, to_async_url(url))
        data = rows(count)
        await insert_rows(url, data)
        per_mail = count / await bare_loop(settings, data, reuse=False)
        for _ in range(rounds):
            ceiling = count / await bare_loop(settings, data, reuse=True)
            await reset_outbox(url)
            sink.reset()
            seconds, delivered = await worker_run(settings, url)
            mails, distinct = sink.count()
            status = await outbox_status(url)
            if not (delivered == mails == distinct == count and status == {"sent": count}):
                problems.append(f"delivered {delivered}, received {mails}/{distinct}, {status}")
            results.append(Round(ceiling, count / seconds))
    finally:
        await drop_database(server, url)
        sink.close()

    print(
        f"\nworker benchmark: {count} mails per run, {rounds} rounds, "
        f"batch size {settings.mail_batch_size}, sink in its own process\n"
    )
    print(f"{'round':<7} {'ceiling mails/s':>16} {'worker mails/s':>15} {'worker/ceiling':>15}")
    for i, r in enumerate(results, 1):
        print(f"{i:<7} {r.ceiling:>16.0f} {r.worker:>15.0f} {r.worker / r.ceiling:>15.0%}")
    ratio = median([r.worker / r.ceiling for r in results])
    best = max(r.worker for r in results) / max(r.ceiling for r in results)
    print(f"\naiosmtplib.send, one connection per mail: {per_mail:.0f} mails/s")
    print(f"worker/ceiling: median of rounds {ratio:.0%}, best worker vs best ceiling {best:.0%}")
    print(f"{'meets' if ratio >= TARGET else 'BELOW'} the {TARGET:.0%} target")
    for problem in problems:
        print(f"ERROR: not every mail was delivered exactly once: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--sink":
        serve_sink(int(sys.argv[2]))
    else:
        raise SystemExit(asyncio.run(main()))
