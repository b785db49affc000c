"""PostgreSQL sized for the host (app/pgconf.py): the rules at 1, 2, 8 and 64 GiB on SSDs and
spinning disks, the embedded server's caps, the disk detection, and the real servers: the
embedded one of this test run runs with exactly these settings, every value is one PostgreSQL
accepts, and the hot tables carry their autovacuum settings after the migrations."""

from __future__ import annotations

import os
import re
from pathlib import Path

import asyncpg
import pytest

from app import pgconf
from app.config import Settings
from app.db.embedded import CONF_FILE, write_server_conf
from app.pgconf import GiB, Host

REPO = Path(__file__).resolve().parents[2]
SIZES = (1, 2, 8, 64)

# (RAM GiB) -> shared_buffers, effective_cache_size, work_mem, maintenance_work_mem,
# max_wal_size, min_wal_size for two API workers of 10 connections (max_connections 100).
EXPECTED = {
    1: ("256MB", "768MB", "4MB", "64MB", "2048MB", "256MB"),
    2: ("512MB", "1536MB", "5MB", "128MB", "2048MB", "256MB"),
    8: ("2048MB", "6144MB", "20MB", "512MB", "4096MB", "512MB"),
    64: ("8192MB", "49152MB", "64MB", "1024MB", "8192MB", "1024MB"),
}
MEMORY = (
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "maintenance_work_mem",
    "max_wal_size",
    "min_wal_size",
)


class TestRules:
    @pytest.mark.parametrize("gib", SIZES)
    def test_memory_follows_ram(self, gib: int) -> None:
        values = pgconf.settings(Host(gib * GiB, cpus=4))
        assert tuple(values[name] for name in MEMORY) == EXPECTED[gib]
        assert values["max_connections"] == "100"

    @pytest.mark.parametrize("gib", SIZES)
    def test_ssd_and_spinning_disk(self, gib: int) -> None:
        ssd = pgconf.settings(Host(gib * GiB, cpus=4, ssd=True))
        hdd = pgconf.settings(Host(gib * GiB, cpus=4, ssd=False))
        assert (ssd["random_page_cost"], ssd["effective_io_concurrency"]) == ("1.1", "200")
        assert (hdd["random_page_cost"], hdd["effective_io_concurrency"]) == ("4", "2")
        assert (ssd["autovacuum_vacuum_cost_limit"], hdd["autovacuum_vacuum_cost_limit"]) == (
            "1000",
            "200",
        )
        # Nothing else depends on the disk.
        differ = {k for k in ssd if ssd[k] != hdd[k]}
        assert differ == {
            "random_page_cost",
            "effective_io_concurrency",
            "autovacuum_vacuum_cost_limit",
        }

    def test_no_prefetch_setting_where_posix_fadvise_is_missing(self) -> None:
        assert "effective_io_concurrency" not in pgconf.settings(Host(8 * GiB, 4, prefetch=False))

    @pytest.mark.parametrize("gib", SIZES)
    def test_embedded_server_is_capped_for_a_one_gigabyte_stack(self, gib: int) -> None:
        full = pgconf.settings(Host(gib * GiB, cpus=8))
        dev = pgconf.settings(Host(gib * GiB, cpus=8), embedded=True)
        assert dev["shared_buffers"] == f"{min(256, gib * 256)}MB"
        assert int(dev["work_mem"].removesuffix("MB")) <= 16
        assert int(dev["maintenance_work_mem"].removesuffix("MB")) <= 256
        assert int(dev["max_wal_size"].removesuffix("MB")) <= 2048
        # A planner estimate, nothing allocated: the machine's page cache is what it describes.
        assert dev["effective_cache_size"] == full["effective_cache_size"]

    def test_parallel_query_uses_half_the_cpus(self) -> None:
        two = pgconf.settings(Host(8 * GiB, cpus=2))
        sixteen = pgconf.settings(Host(8 * GiB, cpus=16))
        assert (two["max_parallel_workers_per_gather"], two["max_parallel_workers"]) == ("1", "2")
        assert (sixteen["max_parallel_workers_per_gather"], sixteen["max_worker_processes"]) == (
            "4",
            "16",
        )

    def test_max_connections_cover_every_pool(self) -> None:
        assert pgconf.max_connections(2, 20) == 100
        for workers, pool in ((4, 20), (8, 20), (8, 50)):
            # API processes (+ two LISTEN connections each), worker and LMTP (+ one each).
            pools = workers * (pool + 2) + 2 * (pool + 1)
            assert pools + 10 <= pgconf.max_connections(workers, pool) < pools + 20
        values = pgconf.settings(Host(8 * GiB, 4), api_workers=16)
        assert values["max_connections"] == "230"  # 16 x 12 + 2 x 11 + 10 = 224
        assert Settings.model_fields["db_pool_size"].default == pgconf.DEFAULT_POOL_SIZE
        # More connections: less memory for each one's sorts.
        assert int(values["work_mem"].removesuffix("MB")) < 20

    def test_render_is_deterministic_and_parses(self) -> None:
        host = Host(8 * GiB, 4, ssd=False)
        text = pgconf.render(host, api_workers=4)
        assert text == pgconf.render(host, api_workers=4)
        assert text.splitlines()[0].startswith(
            "# ATUM DESK: PostgreSQL sized for this host: 8.0 GiB RAM, 4 CPUs, spinning disk"
        )
        parsed = dict(re.findall(r"^(\w+) = '([^']*)'$", text, re.M))
        assert parsed == pgconf.settings(host, api_workers=4)


class TestDisk:
    def fake_sys(self, root: Path, path: Path, flag: str, *, partition: bool) -> Path:
        st = path.stat()
        device = root / "devices" / "vda"
        (device / "queue").mkdir(parents=True)
        (device / "queue" / "rotational").write_text(flag + "\n")
        target = device
        if partition:
            target = device / "vda1"
            target.mkdir()
        (root / "dev" / "block").mkdir(parents=True)
        (root / "dev" / "block" / f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}").symlink_to(target)
        return root

    @pytest.mark.parametrize("partition", [False, True])
    def test_rotational_flag_of_the_data_dirs_disk(self, tmp_path: Path, partition: bool) -> None:
        # A directory on a block device (tmpfs and overlay have none: major 0, answered None).
        data = next(
            (p for p in (tmp_path, REPO, Path("/")) if os.major(p.stat().st_dev) != 0), None
        )
        if data is None:
            assert pgconf.rotational(tmp_path, tmp_path) is None
            return
        spinning = self.fake_sys(tmp_path / "sys1", data, "1", partition=partition)
        solid = self.fake_sys(tmp_path / "sys0", data, "0", partition=partition)
        assert pgconf.rotational(data / "pg" / "not-yet", spinning) is True
        assert pgconf.rotational(data, solid) is False
        assert pgconf.rotational(data, tmp_path / "nothing") is None

    def test_unknown_disk_counts_as_ssd_and_the_override_wins(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(pgconf, "rotational", lambda path: None)
        monkeypatch.delenv("ATUM_PG_DISK", raising=False)
        assert pgconf.detect_host(tmp_path).ssd is True
        assert pgconf.detect_host(tmp_path, "hdd").ssd is False
        monkeypatch.setenv("ATUM_PG_DISK", "hdd")
        assert pgconf.detect_host(tmp_path).ssd is False
        with pytest.raises(ValueError, match="ATUM_PG_DISK"):
            pgconf.detect_host(tmp_path, "floppy")

    def test_host_facts(self, tmp_path: Path) -> None:
        host = pgconf.detect_host(tmp_path)
        assert host.ram_bytes >= 256 * 2**20
        assert host.cpus >= 1


class TestTables:
    def test_only_tables_not_yet_right_are_altered(self) -> None:
        right = [f"{k}={v}" for k, v in pgconf.TABLE_SETTINGS["tickets"].items()]
        changes = pgconf.table_changes({"tickets": right, "ticket_comments": None})
        assert changes == [
            "ALTER TABLE ticket_comments SET (autovacuum_vacuum_scale_factor = 0.02, "
            "autovacuum_analyze_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.02)"
        ]

    async def test_migrated_tables_carry_their_settings(self, database_url: str) -> None:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT relname, reloptions FROM pg_class WHERE relkind = 'r' "
                "AND relnamespace = 'public'::regnamespace AND relname = ANY($1)",
                list(pgconf.TABLE_SETTINGS),
            )
        finally:
            await conn.close()
        found = {r["relname"]: r["reloptions"] for r in rows}
        assert set(found) == set(pgconf.TABLE_SETTINGS)  # every hot table named exists
        assert pgconf.table_changes(found) == []
        assert "autovacuum_vacuum_scale_factor=0" in found["notification_outbox"]


def _base(value: str, unit: str | None) -> float:
    """A value as PostgreSQL shows it in pg_settings' unit (8kB, kB, MB, ms, s, min)."""
    factors = {"kB": 1024, "MB": 2**20, "GB": 2**30, "8kB": 8192, "ms": 1, "s": 1000, "min": 60000}
    m = re.fullmatch(r"(-?[0-9.]+)\s*([a-zA-Z]*)", value)
    assert m, value
    number, suffix = float(m.group(1)), m.group(2)
    if not unit:
        return number
    return number * factors[suffix or unit] / factors[unit]


async def _pg_settings(url: str) -> dict[str, asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT name, setting, unit, vartype, min_val, max_val, enumvals, context, "
            "pending_restart FROM pg_settings"
        )
        data_directory = await conn.fetchval("SHOW data_directory")
    finally:
        await conn.close()
    out = {r["name"]: r for r in rows}
    out["__data_directory__"] = data_directory
    return out


class TestServers:
    async def test_every_value_is_one_postgresql_accepts(self, server_url: str) -> None:
        known = await _pg_settings(server_url)
        for gib in SIZES:
            for ssd in (True, False):
                for embedded in (True, False):
                    host = Host(gib * GiB, cpus=gib, ssd=ssd)
                    for name, value in pgconf.settings(
                        host, embedded=embedded, api_workers=8
                    ).items():
                        row = known[name]
                        if row["vartype"] in ("integer", "real"):
                            number = _base(value, row["unit"])
                            assert float(row["min_val"]) <= number <= float(row["max_val"]), name
                            if row["vartype"] == "integer":
                                assert number == int(number), (name, value)
                        elif row["vartype"] == "bool":
                            assert value in ("on", "off"), name
                        else:
                            assert value in row["enumvals"], name

    async def test_a_new_embedded_server_starts_with_the_rules(self, tmp_path: Path) -> None:
        """initdb, then the settings, then the start: a brand-new data dir (as on a first
        `make run`) runs with the rules from its first start."""
        from app.db.embedded import _start_or_join

        pgdata = (tmp_path / "pg").resolve()
        server = _start_or_join(pgdata)
        try:
            known = await _pg_settings(server.get_uri("postgres"))
            # The server hands large freed blocks back (embedded.SERVER_ENVIRONMENT); the
            # process that started it does not keep the setting.
            assert b"MALLOC_MMAP_THRESHOLD_=131072" in _postmaster_environment(pgdata)
            assert "MALLOC_MMAP_THRESHOLD_" not in os.environ
        finally:
            server.cleanup()
        first = (pgdata / CONF_FILE).read_text().splitlines()[0]
        assert first.startswith("# ATUM DESK: PostgreSQL sized for the embedded development")
        self.assert_runs_with_the_rules(pgdata, known, restarted=True)

    async def test_this_runs_embedded_server_runs_with_the_rules(self, server_url: str) -> None:
        known = await _pg_settings(server_url)
        pgdata = Path(str(known["__data_directory__"]))
        if pgdata != (REPO / "var" / "test" / "pg").resolve():
            # A configured server (ATUM_DATABASE_URL) is its operator's: nothing is written there.
            assert not (pgdata / CONF_FILE).exists()
            return
        assert write_server_conf(pgdata) is False  # this run's server wrote it already
        self.assert_runs_with_the_rules(pgdata, known, restarted=False)

    @staticmethod
    def assert_runs_with_the_rules(
        pgdata: Path, known: dict[str, asyncpg.Record], *, restarted: bool
    ) -> None:
        wanted = pgconf.settings(pgconf.detect_host(pgdata), embedded=True)
        for name, value in wanted.items():
            row = known[name]
            if row["vartype"] in ("integer", "real"):
                same = _base(value, row["unit"]) == float(row["setting"])
            else:  # wal_compression 'on' is shown as the method it means (pglz)
                same = row["setting"] in ({value, "pglz"} if value == "on" else {value})
            # A server started before these settings changed takes the restart-only ones at its
            # next start (it stops when its last user exits).
            later = not restarted and row["pending_restart"] and row["context"] == "postmaster"
            assert same or later, (name, value, row["setting"], row["unit"])


class TestCommand:
    def test_pg_tune_prints_the_conf_file(self, tmp_path: Path, python: str) -> None:
        import subprocess

        argv = [python, "-m", "app.cli", "pg-tune", "--data-dir", str(tmp_path)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATUM_")}
        done = subprocess.run(
            [*argv, "--api-workers", "8", "--disk", "ssd"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        host = pgconf.detect_host(tmp_path, "ssd")
        assert done.stdout == pgconf.render(host, api_workers=8, pool_size=10)
        # 8 API workers x (10 + 2 listeners), worker and LMTP 2 x (10 + 1), 10 spare: 128.
        assert "max_connections = '130'" in done.stdout
        refused = subprocess.run(
            [*argv, "--disk", "floppy"], capture_output=True, text=True, env=env, check=False
        )
        assert refused.returncode == 2
        assert "ATUM_PG_DISK must be ssd, hdd or auto" in refused.stderr


def _postmaster_environment(pgdata: Path) -> list[bytes]:
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    return Path(f"/proc/{postmaster}/environ").read_bytes().split(b"\0")
