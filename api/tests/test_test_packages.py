"""`make test` is self-sufficient on a fresh machine: infra/scripts/test-packages.sh, the one place
that names the Debian packages the tests need, installs the missing ones when run as root and, when
not root, stops before the suite with the exact `sudo apt-get install` line. Run here with a PATH
that lacks nginx and shellcheck, as a fresh Debian machine has it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "infra" / "scripts" / "test-packages.sh"
ABSENT = ("nginx", "shellcheck")
# What the script itself runs, and the commands it checks for (all but the absent ones).
TOOLS = ("bash", "env", "sort", "id", "grep", "openssl", "psql", "pg_dump", "pg_restore")
TOOLS_CHECKED = ("systemd-analyze", "wrk", "ldapadd")
AS_NOBODY = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def bare_path(root: Path, extra: dict[str, str] | None = None) -> Path:
    """A PATH directory with only the listed tools (symlinks), plus *extra* scripts."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for tool in (*TOOLS, *TOOLS_CHECKED):
        found = shutil.which(tool)
        assert found, f"{tool} is needed on this machine for this test"
        (bin_dir / tool).symlink_to(found)
    for name, body in (extra or {}).items():
        script = bin_dir / name
        script.write_text(body)
        script.chmod(0o755)
    root.chmod(0o755)
    return bin_dir


def run_script(path: Path, *, as_nobody: bool) -> subprocess.CompletedProcess[str]:
    prefix = (
        ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        if as_nobody
        else []
    )
    return subprocess.run(
        [*prefix, "/bin/bash", str(SCRIPT)],
        env={"PATH": str(path), "HOME": "/nonexistent", "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory the unprivileged user can read (pytest's tmp_path is root's only)."""
    path = Path(tempfile.mkdtemp(prefix="atum-packages-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_not_root_stops_with_the_exact_install_line(scratch: Path) -> None:
    bin_dir = bare_path(scratch)
    done = run_script(bin_dir, as_nobody=True)
    assert done.returncode == 1, done.stderr
    assert "sudo apt-get install -y --no-install-recommends nginx shellcheck\n" in done.stderr
    assert "not installed: nginx shellcheck" in done.stderr
    # packages whose commands are present are not asked for
    assert "openssl" not in done.stderr and "postgresql-client" not in done.stderr


def test_root_installs_what_is_missing(scratch: Path) -> None:
    log = scratch / "apt.log"
    recorder = f'#!/bin/bash\necho "${{0##*/}} $*" >> {log}\n'
    bin_dir = bare_path(scratch, {"apt-get": recorder, "debconf-set-selections": recorder})
    done = run_script(bin_dir, as_nobody=False)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    assert calls == [
        "apt-get update -qq",
        "apt-get install -y -qq --no-install-recommends nginx shellcheck",
    ]
    assert "installing the Debian packages its tests need: nginx shellcheck" in done.stderr


def test_nothing_missing_is_silent(scratch: Path) -> None:
    for tool in ABSENT:
        if not shutil.which(tool):
            pytest.fail(f"{tool} should have been installed by make test")
    bin_dir = bare_path(scratch)
    for tool in ABSENT:
        (bin_dir / tool).symlink_to(shutil.which(tool) or "")
    done = run_script(bin_dir, as_nobody=True)
    assert (done.returncode, done.stderr) == (0, "")


def test_the_list_covers_every_package_ci_needs() -> None:
    listed = subprocess.run(
        [str(SCRIPT), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    for package in (
        "chromium",
        "nginx",
        "shellcheck",
        "postfix",
        "dovecot-imapd",
        "python3-venv",
        "wrk",
    ):
        assert package in listed


def test_make_test_checks_packages_before_anything_else_and_ci_only_calls_it() -> None:
    dry = subprocess.run(
        ["make", "-n", "--no-print-directory", "test"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")},
        check=True,
    ).stdout.splitlines()
    assert "test-packages.sh" in dry[0]
    ci = [
        line.strip()
        for line in (REPO / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert ci == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', "make test"]
