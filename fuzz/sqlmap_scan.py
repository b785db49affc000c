"""sqlmap against the ticket lists' search, filters, cursor and limit; it must find nothing.

Starts the API (uvicorn on loopback) against a fresh, migrated database with seeded users, signs
them in with minted tokens, and runs sqlmap in batch mode against
``GET /api/tickets`` (a customer: q, status, priority, cursor, limit) and
``GET /api/internal/tickets`` (an agent: the same plus org_id, assigned_to, breached).
Exit status 0 only when sqlmap ran against every target and reported no injection point.

Database: the server of ATUM_TEST_SERVER_URL or ATUM_DATABASE_URL, else the embedded PostgreSQL
under var/fuzz. Budgets: ATUM_SQLMAP_LEVEL (default 2), ATUM_SQLMAP_RISK (default 1),
ATUM_SQLMAP_SECONDS per target (default 600).

Run: ``cd api && uv run --group fuzz python ../fuzz/sqlmap_scan.py``
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
API_DIR = REPO / "api"
sys.path.insert(0, str(API_DIR))
os.environ.setdefault("ATUM_ENV", "test")
os.environ.setdefault("ATUM_SECRET_KEY", secrets.token_urlsafe(48))
os.environ.setdefault("PGSERVER_QUIET", "1")

LEVEL = os.environ.get("ATUM_SQLMAP_LEVEL", "2")
RISK = os.environ.get("ATUM_SQLMAP_RISK", "1")
SECONDS = int(os.environ.get("ATUM_SQLMAP_SECONDS", "600"))
FOUND = "identified the following injection point"
CLEAN = "all tested parameters do not appear to be injectable"


def server_url() -> str:
    from sqlalchemy.engine import make_url

    from app.db.embedded import embedded_server_uri

    explicit = os.environ.get("ATUM_TEST_SERVER_URL") or os.environ.get("ATUM_DATABASE_URL")
    if explicit:
        return make_url(explicit).set(database="postgres").render_as_string(hide_password=False)
    return embedded_server_uri(REPO / "var" / "fuzz", database="postgres")


def sqlmap(url: str, headers: dict[str, str], params: list[str], out: Path) -> tuple[bool, str]:
    command = [
        str(Path(sys.executable).with_name("sqlmap")),
        "-u",
        url,
        "--headers",
        "\n".join(f"{k}: {v}" for k, v in headers.items()),
        "-p",
        ",".join(params),
        "--dbms",
        "PostgreSQL",
        "--level",
        LEVEL,
        "--risk",
        RISK,
        "--batch",
        "--flush-session",
        "--disable-coloring",
        "--skip-waf",
        "--timeout",
        "10",
        "--retries",
        "1",
        "--time-sec",
        "2",
        "--output-dir",
        str(out),
    ]
    try:
        result = subprocess.run(  # noqa: S603 (a fixed command line of our own)
            command, capture_output=True, text=True, timeout=SECONDS, check=False
        )
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else exc.stdout
        return False, f"{output or ''}\nsqlmap did not finish within {SECONDS}s"
    output = result.stdout + result.stderr
    return (FOUND not in output and CLEAN in output and result.returncode == 0), output


async def main() -> int:
    from tests.test_schemathesis import (
        create_database,
        drop_database,
        seed,
        start_server,
        wait_until_ready,
    )

    work = Path(tempfile.mkdtemp(prefix="atum-sqlmap-"))
    database_url = await create_database(server_url(), "atum_sqlmap")
    server = None
    failures: list[str] = []
    try:
        seeded = await seed(database_url, os.environ["ATUM_SECRET_KEY"])
        server = start_server(
            database_url,
            work / "data",
            work / "api.log",
            ATUM_TICKET_CREATE_PER_HOUR="100000",
        )
        await asyncio.to_thread(wait_until_ready, server)
        customer = seeded.identities["customer_user"].headers
        agent = seeded.identities["agent"].headers
        org = seeded.org_a.id
        cursor = "eyJ4IjoxfQ"
        targets = [
            (
                f"{server.url}/api/tickets?q=printer&status=NEW&priority=P3&cursor={cursor}&limit=10",
                customer,
                ["q", "status", "priority", "cursor", "limit"],
            ),
            (
                f"{server.url}/api/internal/tickets?q=printer&status=NEW&priority=P3"
                f"&org_id={org}&assigned_to={uuid.uuid4()}&breached=false&cursor={cursor}&limit=10",
                agent,
                ["q", "status", "priority", "org_id", "assigned_to", "breached", "cursor", "limit"],
            ),
        ]
        for url, headers, params in targets:
            print(f"sqlmap level {LEVEL} risk {RISK}: {url.split('?')[0]} [{', '.join(params)}]")
            clean, output = await asyncio.to_thread(sqlmap, url, headers, params, work / "out")
            tail = "\n".join(output.splitlines()[-8:])
            print(tail)
            if not clean:
                failures.append(f"{url}\n{output[-6000:]}")
        log = (work / "api.log").read_text()
        if "Traceback" in log or '"unhandled_error"' in log:
            failures.append(f"the API logged an unhandled error:\n{log[-4000:]}")
    finally:
        if server is not None:
            server.stop()
        await drop_database(database_url)
        shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    print("sqlmap: no injection found" if not failures else "sqlmap: FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
