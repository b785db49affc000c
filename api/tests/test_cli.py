"""``./atum-desk`` as an operator runs it: a subprocess against the test database (committed for
real, so every name is unique). Failures are one clear line on stderr, never a traceback."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from httpx import AsyncClient
from sqlalchemy.engine import make_url

from app.db.migrations import head_revision

ATUM_DESK = Path(__file__).resolve().parents[2] / "atum-desk"
PASSWORD = "cli password 123"


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        lines = self.stdout.strip().splitlines()
        return lines[-1] if lines else ""


async def atum(*args: str, stdin: str | None = None) -> Result:
    proc = await asyncio.create_subprocess_exec(
        str(ATUM_DESK),
        *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    out, err = await asyncio.wait_for(
        proc.communicate(stdin.encode() if stdin is not None else None), timeout=120
    )
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


def assert_clean_failure(result: Result, *fragments: str) -> None:
    assert result.code != 0, result
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), (fragment, lines[0])
    assert result.stdout.strip() == ""


async def fetchval(database_url: str, sql: str, *args: object) -> object:
    url = make_url(database_url)
    conn = await asyncpg.connect(
        user=url.username,
        password=url.password,
        database=url.database,
        host=url.query.get("host") or url.host,
        port=url.port,
    )
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


def unique_email() -> str:
    return f"cli-{uuid.uuid4().hex[:12]}@example.test"


def create_user_args(email: str, role: str, org: str | None) -> list[str]:
    args = ["create-user", "--email", email, "--name", "Cli User", "--role", role]
    return [*args, "--org", org] if org else args


async def insert_staff(database_url: str, email: str, role: str) -> None:
    await fetchval(
        database_url,
        "INSERT INTO users (email, name, role, password_hash) VALUES ($1, 'Staff', $2, 'x')",
        email,
        role,
    )


@pytest.fixture
async def org_name(database_url: str) -> str:
    """A committed organization (direct SQL, so these tests don't depend on create-org)."""
    name = f"CLI Org {uuid.uuid4().hex[:12]}"
    await fetchval(database_url, "INSERT INTO organizations (name) VALUES ($1)", name)
    return name


class TestCreateOrg:
    async def test_prints_the_new_id_last(self, database_url: str) -> None:
        name = f"CLI Created {uuid.uuid4().hex[:12]}"
        result = await atum("create-org", "--name", name)
        assert result.code == 0, result.stderr
        org_id = uuid.UUID(result.last_line)
        stored = await fetchval(
            database_url, "SELECT name FROM organizations WHERE id = $1", org_id
        )
        assert stored == name
        audited = await fetchval(
            database_url,
            "SELECT count(*) FROM audit_log WHERE action = 'org.created' AND entity_id = $1",
            org_id,
        )
        assert audited == 1

    async def test_duplicate_name_is_refused(self, database_url: str, org_name: str) -> None:
        result = await atum("create-org", "--name", org_name.upper())
        assert_clean_failure(result, "already exists")
        same_name = await fetchval(
            database_url,
            "SELECT count(*) FROM organizations WHERE lower(name) = lower($1)",
            org_name,
        )
        assert same_name == 1


class TestCreateUser:
    async def test_org_by_name_or_id_then_the_user_can_log_in(
        self, client: AsyncClient, database_url: str, org_name: str
    ) -> None:
        org_id = await fetchval(
            database_url, "SELECT id FROM organizations WHERE name = $1", org_name
        )
        customer, admin = unique_email(), unique_email()
        by_name, by_id = await asyncio.gather(
            atum(
                *create_user_args(customer.upper(), "customer_user", org_name.lower()),
                "--password-stdin",
                stdin=PASSWORD + "\n",
            ),
            atum(
                *create_user_args(admin, "customer_admin", str(org_id)),
                "--password-stdin",
                stdin=PASSWORD + "\n",
            ),
        )
        for result in (by_name, by_id):
            assert result.code == 0, result.stderr
            assert PASSWORD not in result.stdout + result.stderr
        admin_org = await fetchval(
            database_url,
            "SELECT org_id FROM users WHERE id = $1 AND role = 'customer_admin'",
            uuid.UUID(by_id.last_line),
        )
        assert admin_org == org_id

        login = await client.post("/api/auth/login", json={"email": customer, "password": PASSWORD})
        assert login.status_code == 200, login.text
        me = login.json()["user"]
        assert me["id"] == str(uuid.UUID(by_name.last_line))
        assert me["email"] == customer
        assert me["role"] == "customer_user"
        assert me["org_name"] == org_name

    async def test_rejections_are_one_line_and_create_nothing(
        self, database_url: str, org_name: str
    ) -> None:
        taken = unique_email()
        await insert_staff(database_url, taken, "agent")
        stdin = "--password-stdin"
        cases: list[tuple[list[str], str, str]] = [
            ([*create_user_args(unique_email(), "wizard", org_name), stdin], PASSWORD, "role"),
            (
                [
                    *create_user_args(
                        unique_email(), "customer_user", f"No org {uuid.uuid4().hex}"
                    ),
                    stdin,
                ],
                PASSWORD,
                "organization not found",
            ),
            (
                [*create_user_args(unique_email(), "customer_user", org_name), stdin],
                "short",
                "password",
            ),
            (create_user_args(unique_email(), "customer_user", org_name), PASSWORD, stdin),
            ([*create_user_args(taken.upper(), "agent", None), stdin], PASSWORD, "already exists"),
        ]
        results = await asyncio.gather(
            *(atum(*argv, stdin=password + "\n") for argv, password, _ in cases)
        )
        for (argv, _, fragment), result in zip(cases, results, strict=True):
            assert_clean_failure(result, fragment)
            email = argv[argv.index("--email") + 1].lower()
            count = await fetchval(
                database_url, "SELECT count(*) FROM users WHERE email = $1", email
            )
            assert count == (1 if email == taken else 0), argv


class TestOtherCommands:
    async def test_migrate_on_an_up_to_date_database_is_a_no_op(self, database_url: str) -> None:
        # The session's database is already at head (conftest migrated it).
        sla_rows = await fetchval(database_url, "SELECT count(*) FROM sla_policies")
        result = await atum("migrate")
        assert result.code == 0, result.stderr
        assert result.last_line == f"database at revision {head_revision()}"
        assert await fetchval(database_url, "SELECT version_num FROM alembic_version") == (
            head_revision()
        )
        assert await fetchval(database_url, "SELECT count(*) FROM sla_policies") == sla_rows

    async def test_worker_help_says_what_it_does(self) -> None:
        result = await atum("worker", "--help")
        assert result.code == 0, result.stderr
        text = " ".join(result.stdout.split()).lower()
        assert "smtp" in text and "sla" in text and "placeholder" not in text

    async def test_seed_demo_leaves_a_non_empty_database_alone(self, database_url: str) -> None:
        await insert_staff(database_url, unique_email(), "admin")
        users_before = await fetchval(database_url, "SELECT count(*) FROM users")
        result = await atum("seed-demo")
        assert result.code == 0, result.stderr
        assert "not loaded" in result.stdout
        assert await fetchval(database_url, "SELECT count(*) FROM users") == users_before
        demo_admin = "SELECT count(*) FROM users WHERE email = 'admin@atum.test'"
        assert await fetchval(database_url, demo_admin) == 0


class TestAllowPasswords:
    async def test_allows_a_roles_passwords_again_and_audits_it(self, database_url: str) -> None:
        url = make_url(database_url)
        conn = await asyncpg.connect(
            user=url.username,
            password=url.password,
            database=url.database,
            host=url.query.get("host") or url.host,
            port=url.port,
        )
        try:
            await conn.execute(
                "INSERT INTO signin_policy (role, password_allowed) VALUES ('manager', false)"
            )
            audits = await conn.fetchval(
                "SELECT count(*) FROM audit_log WHERE action = 'sso.policy_updated'"
            )
            result = await atum("allow-passwords", "--role", "manager")
            assert result.code == 0, result.stderr
            assert result.last_line == "local passwords allowed again for manager"
            assert await conn.fetchval(
                "SELECT password_allowed FROM signin_policy WHERE role = 'manager'"
            )
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM audit_log WHERE action = 'sso.policy_updated'"
                )
                == audits + 1
            )
            again = await atum("allow-passwords", "--role", "manager")
            assert again.last_line == "local passwords were already allowed for manager"
            assert_clean_failure(await atum("allow-passwords", "--role", "boss"), "unknown role")
        finally:
            await conn.execute("DELETE FROM signin_policy WHERE role = 'manager'")
            await conn.close()
