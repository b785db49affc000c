"""PostgreSQL sized for the host: the one set of rules the installer's ``conf.d`` file, the
embedded server of ``make run`` / the tests / the bench, and the hot tables' autovacuum settings
all come from (docs/RUNBOOK.md "PostgreSQL settings").

The rules are pure functions of :class:`Host` (RAM, CPUs, SSD or spinning disk) and the number of
connections the application may open; :func:`detect_host` reads those facts from the machine.
Standard library only: the installer runs it before anything else is set up.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024
GiB = 1024 * MiB

# The embedded server (make run, the tests, the bench) shares a developer's machine with the rest
# of the stack: PostgreSQL, the API, the worker and the LMTP listener together stay under 1 GB.
EMBEDDED_SHARED_BUFFERS_MB = 256
EMBEDDED_WORK_MEM_MB = 16
EMBEDDED_MAINTENANCE_WORK_MEM_MB = 256
EMBEDDED_MAX_WAL_SIZE_MB = 2048

# Connections outside the API and worker pools: the CLI, backups, psql, migrations.
SPARE_CONNECTIONS = 10
# Processes with a pool of their own next to the API's: the worker and the LMTP listener.
OTHER_POOLED_PROCESSES = 2
DEFAULT_API_WORKERS = 2
# app/config.py's db_pool_size default (a test keeps them equal; this module imports nothing).
DEFAULT_POOL_SIZE = 10

# The tables that change all day long. Big ones (tickets, comments, the audit trail) are vacuumed
# and analysed after a small fraction of their rows changed instead of PostgreSQL's 20 % / 10 %
# (at 1 M tickets: every 20,000 changed rows, not 200,000), so the visibility map stays current
# for index-only scans and the statistics for the search planner's estimates. Queue-like tables
# (rows inserted, updated and deleted within minutes) are vacuumed after a fixed number of dead
# rows whatever their size, before the dead rows outnumber the live ones.
_LARGE = {
    "autovacuum_vacuum_scale_factor": "0.02",
    "autovacuum_analyze_scale_factor": "0.01",
    "autovacuum_vacuum_insert_scale_factor": "0.02",
}
_QUEUE = {
    "autovacuum_vacuum_scale_factor": "0",
    "autovacuum_vacuum_threshold": "1000",
    "autovacuum_analyze_scale_factor": "0.05",
}
TABLE_SETTINGS: dict[str, dict[str, str]] = {
    "tickets": _LARGE,
    "ticket_comments": _LARGE,
    "audit_log": _LARGE,
    "notification_outbox": _QUEUE,
    "ai_jobs": _QUEUE,
    "live_events": _QUEUE,
    "auth_sessions": _QUEUE,
    "rate_limit_counters": _QUEUE,
    "ticket_presence": _QUEUE,
}


@dataclass(frozen=True)
class Host:
    """What the rules are computed from."""

    ram_bytes: int
    cpus: int
    ssd: bool = True
    # posix_fadvise exists (Linux): effective_io_concurrency may be set above 0.
    prefetch: bool = True


def max_connections(
    api_workers: int = DEFAULT_API_WORKERS, pool_size: int = DEFAULT_POOL_SIZE
) -> int:
    """Every API process's pool plus its two listening connections (live events, session
    invalidation), the worker's and the LMTP listener's pools with one each, and a few spare;
    never below PostgreSQL's default of 100."""
    clients = (
        api_workers * (pool_size + 2) + OTHER_POOLED_PROCESSES * (pool_size + 1) + SPARE_CONNECTIONS
    )
    return max(100, math.ceil(clients / 10) * 10)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def settings(
    host: Host,
    *,
    embedded: bool = False,
    api_workers: int = DEFAULT_API_WORKERS,
    pool_size: int = DEFAULT_POOL_SIZE,
) -> dict[str, str]:
    """The server settings for *host*, in postgresql.conf syntax (values as PostgreSQL takes
    them). *embedded*: the development server's caps apply on top."""
    ram_mb = host.ram_bytes // MiB
    connections = max_connections(api_workers, pool_size)
    # 25 % of RAM, the usual starting point: the OS page cache holds the rest of the hot data.
    # Capped at 8 GB: beyond that, checkpoints get longer and the page cache does the job as well.
    shared = _clamp(ram_mb // 4, 128, 8192)
    # What PostgreSQL and the OS cache together may hold: a planner estimate, nothing allocated.
    cache = max(ram_mb * 3 // 4, shared)
    # Per sort or hash step: what is left after shared_buffers, for three such steps on every
    # connection at once; at least PostgreSQL's 4 MB, at most 64 MB.
    work = _clamp((ram_mb - shared) // (3 * connections), 4, 64)
    # VACUUM, CREATE INDEX and the autovacuum workers: 1/16 of RAM, 64 MB to 1 GB.
    maintenance = _clamp(ram_mb // 16, 64, 1024)
    # WAL between checkpoints: larger hosts take bigger bursts (imports, bulk actions) without a
    # checkpoint every few seconds; an eighth of it stays allocated for reuse (min_wal_size).
    max_wal = 2048 if ram_mb < 8 * 1024 else (4096 if ram_mb < 32 * 1024 else 8192)
    if embedded:
        shared = min(shared, EMBEDDED_SHARED_BUFFERS_MB)
        work = min(work, EMBEDDED_WORK_MEM_MB)
        maintenance = min(maintenance, EMBEDDED_MAINTENANCE_WORK_MEM_MB)
        max_wal = min(max_wal, EMBEDDED_MAX_WAL_SIZE_MB)
    cpus = max(1, host.cpus)
    half = _clamp(cpus // 2, 1, 4)
    out = {
        "max_connections": str(connections),
        "shared_buffers": f"{shared}MB",
        "effective_cache_size": f"{cache}MB",
        "work_mem": f"{work}MB",
        "maintenance_work_mem": f"{maintenance}MB",
        # An SSD reads a random page about as fast as the next one; PostgreSQL's 4 is for disks
        # that seek.
        "random_page_cost": "1.1" if host.ssd else "4",
    }
    if host.prefetch:
        # Concurrent prefetch requests of a bitmap heap scan: an SSD serves hundreds at once.
        out["effective_io_concurrency"] = "200" if host.ssd else "2"
    out.update(
        {
            # Parallel query: at most half the CPUs for one query (the other requests need them
            # too), all of them in total.
            "max_worker_processes": str(max(8, cpus)),
            "max_parallel_workers": str(cpus),
            "max_parallel_workers_per_gather": str(half),
            "max_parallel_maintenance_workers": str(half),
            # Checkpoints every 15 minutes (fewer full-page images in the WAL), spread over 90 %
            # of the interval.
            "checkpoint_timeout": "15min",
            "checkpoint_completion_target": "0.9",
            "max_wal_size": f"{max_wal}MB",
            "min_wal_size": f"{max_wal // 8}MB",
            "wal_compression": "on",
            # Autovacuum: sooner than PostgreSQL's defaults everywhere (the hot tables have their
            # own, see TABLE_SETTINGS), and faster on an SSD (the default cost limit of 200 was
            # chosen for spinning disks).
            "autovacuum_vacuum_scale_factor": "0.1",
            "autovacuum_analyze_scale_factor": "0.05",
            "autovacuum_vacuum_insert_scale_factor": "0.1",
            "autovacuum_vacuum_cost_limit": "1000" if host.ssd else "200",
        }
    )
    return out


# Settings PostgreSQL reads only when it starts (a reload does not change them).
RESTART_SETTINGS = frozenset({"max_connections", "shared_buffers", "max_worker_processes"})


def render(
    host: Host,
    *,
    embedded: bool = False,
    api_workers: int = DEFAULT_API_WORKERS,
    pool_size: int = DEFAULT_POOL_SIZE,
) -> str:
    """The configuration file: a header saying what it was sized for, then one line a setting.
    Deterministic (no date): writing it again for the same host changes nothing."""
    values = settings(host, embedded=embedded, api_workers=api_workers, pool_size=pool_size)
    disk = "SSD" if host.ssd else "spinning disk"
    kind = "the embedded development server" if embedded else "this host"
    lines = [
        f"# ATUM DESK: PostgreSQL sized for {kind}: {host.ram_bytes / GiB:.1f} GiB RAM, "
        f"{host.cpus} CPUs, {disk}; {api_workers} API workers with {pool_size} connections each.",
        "# Written by ATUM DESK from app/pgconf.py and rewritten on every install or start:",
        "# do not edit. Override a value in a file that is read after this one (see",
        '# docs/RUNBOOK.md "PostgreSQL settings").',
    ]
    lines += [f"{name} = '{value}'" for name, value in values.items()]
    return "\n".join(lines) + "\n"


# --- the machine's facts ---------------------------------------------------------------------


def _meminfo_total() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 1 * GiB


def _cgroup_limit() -> int | None:
    """The memory limit of this process's cgroup (a container), if there is one."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            raw = Path(path).read_text().strip()
        except OSError:
            continue
        if raw.isdigit():
            return int(raw)
    return None


def total_ram() -> int:
    ram = _meminfo_total()
    limit = _cgroup_limit()
    return min(ram, limit) if limit else ram


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def rotational(path: Path, sys_root: Path = Path("/sys")) -> bool | None:
    """Whether the block device holding *path* (or its nearest existing, readable parent) is a
    spinning disk, from /sys/dev/block/<major>:<minor>/queue/rotational; None when unknown
    (overlay and network file systems, no /sys)."""
    probe = path
    while True:
        try:
            st = probe.stat()
            break
        except OSError:
            if probe.parent == probe:
                return None
            probe = probe.parent
    major, minor = os.major(st.st_dev), os.minor(st.st_dev)
    if major == 0:
        return None
    device = sys_root / "dev" / "block" / f"{major}:{minor}"
    for queue in (device / "queue", device / ".." / "queue"):  # a disk, or a partition's disk
        try:
            return (queue / "rotational").read_text().strip() == "1"
        except OSError:
            continue
    return None


def detect_host(data_dir: Path, disk: str | None = None) -> Host:
    """The facts for a server whose data lives in *data_dir*. *disk* ("ssd" or "hdd", default
    ATUM_PG_DISK) overrides the detection: virtual disks often call themselves rotational."""
    disk = (disk or os.environ.get("ATUM_PG_DISK") or "auto").strip().lower()
    if disk not in ("auto", "ssd", "hdd"):
        raise ValueError(f"ATUM_PG_DISK must be ssd, hdd or auto, not {disk!r}")
    if disk == "auto":
        spinning = rotational(data_dir)
        ssd = spinning is not True  # unknown: an SSD, today's common case
    else:
        ssd = disk == "ssd"
    return Host(
        ram_bytes=total_ram(),
        cpus=cpu_count(),
        ssd=ssd,
        prefetch=hasattr(os, "posix_fadvise"),
    )


def api_workers_from_env() -> int:
    raw = os.environ.get("ATUM_API_WORKERS", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_API_WORKERS


def table_changes(current: dict[str, list[str] | None]) -> list[str]:
    """The ``ALTER TABLE … SET (…)`` statements that bring the hot tables' autovacuum storage
    parameters to :data:`TABLE_SETTINGS`. *current*: the ``reloptions`` of the tables that exist
    (``name=value`` strings, None when none are set). Tables already right get no statement."""
    out = []
    for table, wanted in TABLE_SETTINGS.items():
        if table not in current:
            continue
        have = dict(option.split("=", 1) for option in current[table] or [])
        if all(have.get(name) == value for name, value in wanted.items()):
            continue
        params = ", ".join(f"{name} = {value}" for name, value in wanted.items())
        out.append(f"ALTER TABLE {table} SET ({params})")
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m app.pgconf``: the conf.d file for this host on standard output, with the
    standard library only (the installer runs it before the application's dependencies are
    known to work); ``atum-desk pg-tune`` prints the same."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m app.pgconf", description=main.__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("/var/lib/postgresql"))
    parser.add_argument("--api-workers", type=int, default=None)
    parser.add_argument("--pool-size", type=int, default=None)
    parser.add_argument("--disk", choices=("ssd", "hdd"), default=None)
    args = parser.parse_args(argv)
    host = detect_host(args.data_dir, args.disk)
    raw = os.environ.get("ATUM_DB_POOL_SIZE", "").strip()
    pool = args.pool_size or (int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_POOL_SIZE)
    workers = args.api_workers or api_workers_from_env()
    sys.stdout.write(render(host, api_workers=workers, pool_size=pool))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
