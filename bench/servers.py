"""The processes a bench run starts (the API the production way, the ceiling app the same way, the
mail sink and the worker), their memory, and wrk. Every process is started in a session of its
own and stopped by its process group id in ``stop()``."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from common import API, BENCH, REPO

UNIT = REPO / "infra" / "systemd" / "atum-desk-api.service"
VENV_BIN = Path(sys.executable).parent
LUA = BENCH / "replay.lua"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def production_workers() -> int:
    """ATUM_API_WORKERS from the environment, else the unit's default."""
    if os.environ.get("ATUM_API_WORKERS"):
        return int(os.environ["ATUM_API_WORKERS"])
    for line in UNIT.read_text().splitlines():
        for word in (
            shlex.split(line.removeprefix("Environment="))
            if line.startswith("Environment=")
            else []
        ):
            if word.startswith("ATUM_API_WORKERS="):
                return int(word.split("=", 1)[1])
    raise RuntimeError(f"no ATUM_API_WORKERS in {UNIT}")


def gunicorn_argv(
    port: int, workers: int, control: Path, *, app: str | None = None, chdir: Path = API
) -> list[str]:
    """The unit's ExecStart, with loopback TCP instead of the unix socket (wrk speaks TCP) and,
    for the ceiling, another application module: same worker class, count, timeouts, logging."""
    line = next(x for x in UNIT.read_text().splitlines() if x.startswith("ExecStart="))
    argv = shlex.split(line.removeprefix("ExecStart=").replace("${ATUM_API_WORKERS}", str(workers)))
    argv[0] = str(VENV_BIN / "gunicorn")
    out: list[str] = []
    replace = {
        "--chdir": str(chdir),
        "--bind": f"127.0.0.1:{port}",
        "--control-socket": str(control),
    }
    skip = False
    for k, word in enumerate(argv):
        if skip:
            skip = False
            continue
        if word in replace:
            out += [word, replace[word]]
            skip = True
        elif k == len(argv) - 1 and app is not None:
            out.append(app)
        else:
            out.append(word)
    return out


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def pause(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGCONT)

    def stop(self, timeout: float = 20) -> None:
        if self.popen.poll() is not None:
            return
        self.resume()
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)


def start(name: str, argv: list[str], env: dict[str, str], log: Path, cwd: Path = API) -> Proc:
    handle = log.open("ab")
    popen = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    handle.close()
    return Proc(name, popen, log)


def wait_http(url: str, proc: Proc, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited: see {proc.log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 (loopback)
                if r.status < 500:
                    return
        except Exception:  # noqa: S110 (not up yet)
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{proc.name} did not answer {url} within {timeout} s")


def wait_port(port: int, proc: Proc, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited: see {proc.log}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{proc.name} did not listen on {port} within {timeout} s")


@dataclass
class Memory:
    """Samples the resident memory of every process of the watched process groups."""

    groups: dict[str, Proc] = field(default_factory=dict)
    peak: dict[str, dict[int, int]] = field(default_factory=dict)
    last: dict[str, dict[int, int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def watch(self, label: str, proc: Proc) -> None:
        self.groups[label] = proc

    def sample(self) -> None:
        for label, proc in list(self.groups.items()):
            try:
                root = psutil.Process(proc.popen.pid)
                children = root.children(recursive=True)
            except psutil.NoSuchProcess:
                continue
            now: dict[int, int] = {}
            for p in [root, *children]:
                try:
                    now[p.pid] = p.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            if now:
                self.last[label] = now
                peaks = self.peak.setdefault(label, {})
                for pid, rss in now.items():
                    peaks[pid] = max(peaks.get(pid, 0), rss)

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(0.5):
                self.sample()

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def pss(pid: int) -> tuple[int, int] | None:
    """A process's proportional set size in bytes (/proc/<pid>/smaps_rollup): its private pages
    plus its share of every shared page, so PostgreSQL's shared buffers count once however many
    server processes map them; and the part of it that is shared memory (Pss_Shmem: PostgreSQL's
    shared buffers). None when the process is gone or not readable."""
    try:
        fields = {
            line.split(":")[0]: int(line.split()[1]) * 1024
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
            if line.startswith(("Pss:", "Pss_Shmem:"))
        }
    except (OSError, ValueError):
        return None
    return (fields["Pss"], fields.get("Pss_Shmem", 0)) if "Pss" in fields else None


def tree_pids(pid: int) -> list[int]:
    """*pid* and every descendant of it (none when it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root.pid, *(p.pid for p in root.children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def stack_memory(groups: dict[str, list[int]]) -> dict[str, dict[str, int]]:
    """PSS of each labelled group of processes, the shared-memory part of it, and the number of
    processes counted (those gone or unreadable are left out)."""
    out: dict[str, dict[str, int]] = {}
    for label, pids in groups.items():
        sizes = [v for v in (pss(pid) for pid in pids) if v is not None]
        if sizes:
            out[label] = {
                "pss": sum(v[0] for v in sizes),
                "shmem": sum(v[1] for v in sizes),
                "processes": len(sizes),
            }
    return out


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("bench: wrk is missing; installing the Debian package", flush=True)
    quiet = {"stdout": subprocess.DEVNULL}
    if subprocess.run(["apt-get", "install", "-y", "wrk"], **quiet, check=False).returncode:
        subprocess.run(["apt-get", "update"], **quiet, check=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], **quiet, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk could not be installed (apt-get install wrk)")
    return found


def wrk(
    url: str,
    requests: Path,
    *,
    connections: int,
    seconds: float,
    chain: bool = False,
    threads: int | None = None,
) -> dict[str, Any]:
    """One wrk run; the replay script's summary line, plus requests/s."""
    t = threads or (connections if chain else min(2, connections))
    argv = [
        ensure_wrk(),
        "-t",
        str(t),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
        "--",
        str(requests),
        "chain" if chain else "shared",
    ]
    out = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=seconds + 120)
    summary = next((line for line in out.stdout.splitlines() if line.startswith("{")), None)
    if out.returncode or summary is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.strip() or out.stdout}")
    result: dict[str, Any] = json.loads(summary)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(
        result[k]
        for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    result["connections"] = connections
    return result
