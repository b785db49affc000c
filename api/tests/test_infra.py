"""The deployment files: every shell script parses and passes shellcheck; the systemd units pass
`systemd-analyze verify` (offline: no systemd runs here) and its security review; the rendered
nginx site passes `nginx -t`; install.sh stages a complete installation under --prefix, plans one
under --dry-run without touching anything, changes nothing when run again and repairs what
differs, and installs from a bundle with no network."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
SCRIPTS = [*sorted((INFRA / "scripts").glob("*.sh")), REPO / "atum-desk", REPO / ".ci" / "run"]
UNITS = sorted((INFRA / "systemd").iterdir())
SERVICES = ["atum-desk-api.service", "atum-desk-worker.service", "atum-desk-lmtp.service"]
INSTALL = INFRA / "scripts" / "install.sh"
RENDER = INFRA / "scripts" / "render-nginx.sh"
LIB = INFRA / "scripts" / "lib.sh"
# Paths in the units, mapped onto files that exist on this machine for `systemd-analyze verify`.
UNIT_PATHS = {
    "/opt/atum-desk/venv": str(REPO / "api" / ".venv"),
    "/opt/atum-desk/app": str(REPO),
    "/usr/local/bin/atum-desk": str(INFRA / "scripts" / "atum-desk.sh"),
}


def run(*argv: str | Path, env: dict[str, str] | None = None, timeout: float = 120) -> Proc:
    done = subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return Proc(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True)
class Proc:
    code: int
    stdout: str
    stderr: str


def unit_sections(path: Path) -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
        else:
            key, _, value = line.partition("=")
            sections[current].append((key, value))
    return sections


def values(path: Path, section: str, key: str) -> list[str]:
    return [v for k, v in unit_sections(path)[section] if k == key]


def self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    made = run(
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        "-keyout", key, "-out", cert,
    )  # fmt: skip
    assert made.code == 0, made.stderr
    return cert, key


def nginx_main_conf(directory: Path, site: Path, user: str = "") -> Path:
    """The http block Debian's /etc/nginx/nginx.conf provides, with every path in *directory*."""
    conf = directory / "nginx.conf"
    conf.write_text(
        f"""{user}worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log;
events {{ worker_connections 128; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log {directory}/access.log;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {site};
}}
"""
    )
    return conf


def write_env(path: Path, **settings: str) -> Path:
    path.write_text("".join(f"ATUM_{k.upper()}={v}\n" for k, v in settings.items()))
    return path


def snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Every path below *root* with its type, mode, owner, size, mtime, link target and SHA-256."""
    found: dict[str, tuple[object, ...]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        if path.is_symlink():
            found[str(path.relative_to(root))] = ("link", os.readlink(path))
        elif path.is_dir():
            found[str(path.relative_to(root))] = ("dir", st.st_mode, st.st_uid, st.st_mtime_ns)
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[str(path.relative_to(root))] = (
                "file", st.st_mode, st.st_uid, st.st_size, st.st_mtime_ns, digest,
            )  # fmt: skip
    return found


class TestShellScripts:
    def test_every_script_is_covered(self) -> None:
        names = {p.name for p in SCRIPTS}
        assert {"install.sh", "render-nginx.sh", "provision-db.sh", "atum-desk.sh"} <= names
        assert {"make-bundle.sh", "ensure-uv.sh", "lib.sh", "atum-desk", "run"} <= names

    @pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
    def test_parses(self, script: Path) -> None:
        checked = run("bash", "-n", script)
        assert checked.code == 0, checked.stderr

    def test_shellcheck_is_clean(self) -> None:
        checked = run("shellcheck", "--external-sources", *SCRIPTS)
        assert (checked.code, checked.stdout) == (0, ""), checked.stdout

    def test_env_files_are_read_like_systemd_without_running_them(self, tmp_path: Path) -> None:
        env = tmp_path / "atum-desk.env"
        env.write_text(
            "# comment\n; also a comment\n"
            "ATUM_MAIL_FROM=\"ATUM DESK <desk@example.com>\"\n"
            "  ATUM_PORT = 8000\n"
            f"ATUM_EVIL=$(touch {tmp_path}/pwned)`touch {tmp_path}/pwned`\n"
            "ATUM_PORT=9000\n"
        )  # fmt: skip
        script = f'. "{LIB}"; for k in ATUM_MAIL_FROM ATUM_PORT ATUM_EVIL; do env_file_value "$1" "$k"; done; env_file_value "$1" ATUM_MISSING || echo missing'  # noqa: E501
        read = run("bash", "-c", script, "lib", env)
        assert read.code == 0, read.stderr
        assert read.stdout.splitlines() == [
            "ATUM DESK <desk@example.com>",
            "9000",
            f"$(touch {tmp_path}/pwned)`touch {tmp_path}/pwned`",
            "missing",
        ]
        assert not (tmp_path / "pwned").exists()


class TestSystemdUnits:
    @pytest.fixture
    def units(self, tmp_path: Path) -> list[Path]:
        """The units with their install paths mapped onto this checkout (whose venv has gunicorn)
        so that verify can check every ExecStart binary."""
        copies = []
        for unit in UNITS:
            text = unit.read_text()
            for installed, here in UNIT_PATHS.items():
                text = text.replace(installed, here)
            copy = tmp_path / unit.name
            copy.write_text(text)
            copies.append(copy)
        return copies

    def test_verify_is_clean(self, units: list[Path]) -> None:
        verified = run("systemd-analyze", "verify", "--man=no", *units)
        assert verified.code == 0, verified.stderr
        assert verified.stdout + verified.stderr == ""

    def test_verify_would_report_a_mistake(self, units: list[Path]) -> None:
        api = next(u for u in units if u.name == "atum-desk-api.service")
        api.write_text(
            api.read_text().replace("ProtectHome=yes", "ProtectHome=yes\nProtectHoem=yes")
        )
        verified = run("systemd-analyze", "verify", "--man=no", api)
        assert "Unknown key 'ProtectHoem'" in verified.stderr

    @pytest.mark.parametrize("name", SERVICES)
    def test_security_review_rates_the_services_ok(self, name: str, units: list[Path]) -> None:
        unit = next(u for u in units if u.name == name)
        review = run("systemd-analyze", "security", "--offline=yes", unit)
        level = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", review.stdout)
        assert level is not None, review.stdout + review.stderr
        assert float(level.group(1)) < 2.5, review.stdout
        assert level.group(2) == "OK"

    def test_one_target_starts_and_stops_every_service(self) -> None:
        target = INFRA / "systemd" / "atum-desk.target"
        assert values(target, "Unit", "Wants") == [" ".join(SERVICES)]
        assert values(target, "Install", "WantedBy") == ["multi-user.target"]
        for name in SERVICES:
            unit = INFRA / "systemd" / name
            assert values(unit, "Unit", "PartOf") == ["atum-desk.target"]
            assert values(unit, "Service", "Restart") == ["on-failure"]

    @pytest.mark.parametrize("name", SERVICES)
    def test_services_are_hardened(self, name: str) -> None:
        service = dict(unit_sections(INFRA / "systemd" / name)["Service"])
        assert service["User"] == service["Group"] == "atum-desk"
        assert service["EnvironmentFile"] == "/etc/atum-desk/atum-desk.env"
        for key, value in {
            "NoNewPrivileges": "yes",
            "ProtectSystem": "strict",
            "ProtectHome": "yes",
            "PrivateTmp": "yes",
            "ReadWritePaths": "/opt/atum-desk/data",
            "CapabilityBoundingSet": "",
        }.items():
            assert service[key] == value, key

    def test_api_runs_gunicorn_with_uvicorn_workers_on_a_unix_socket(self) -> None:
        api = INFRA / "systemd" / "atum-desk-api.service"
        (exec_start,) = values(api, "Service", "ExecStart")
        assert exec_start.startswith("/opt/atum-desk/venv/bin/gunicorn ")
        assert "--worker-class uvicorn_worker.UvicornWorker" in exec_start
        assert "--workers ${ATUM_API_WORKERS}" in exec_start
        assert "--bind unix:/run/atum-desk/api.sock" in exec_start
        # Loaded once in the master, the workers forked from it (app.main.production_app).
        assert exec_start.endswith(" --preload app.main:production_app()")
        assert values(api, "Service", "Type") == ["notify"]
        assert values(api, "Service", "ExecReload") == ["/bin/kill -s HUP $MAINPID"]


class TestNginxSite:
    @pytest.fixture
    def env(self, tmp_path: Path) -> Path:
        cert, key = self_signed(tmp_path)
        return write_env(
            tmp_path / "atum-desk.env",
            public_url="https://127.0.0.1:18443",
            max_upload_mb="25",
            data_dir=str(tmp_path / "data"),
            nginx_http_listen="127.0.0.1:18080",
            nginx_https_listen="127.0.0.1:18443",
            nginx_log_dir=str(tmp_path),
            tls_cert=str(cert),
            tls_key=str(key),
            web_root=str(tmp_path / "web"),
            api_socket=str(tmp_path / "api.sock"),
        )

    def render(self, env: Path) -> Proc:
        return run(RENDER, env)

    def test_rendered_site_passes_nginx_t(self, env: Path, tmp_path: Path) -> None:
        rendered = self.render(env)
        assert rendered.code == 0, rendered.stderr
        site = tmp_path / "atum-desk.conf"
        site.write_text(rendered.stdout)
        tested = run("nginx", "-t", "-p", tmp_path, "-c", nginx_main_conf(tmp_path, site))
        assert tested.code == 0, tested.stderr
        assert "test is successful" in tested.stderr

    def test_only_the_settings_change_between_renderings(self, env: Path, tmp_path: Path) -> None:
        rendered = self.render(env).stdout
        template = (INFRA / "nginx" / "atum-desk.conf").read_text()
        assert not re.search(r"@[A-Z][A-Z_]*@", rendered)
        assert len(rendered.splitlines()) == len(template.splitlines())
        assert f"alias {tmp_path}/data/uploads/;" in rendered
        assert "location /_atum_uploads/ {" in rendered
        assert f"server unix:{tmp_path}/api.sock fail_timeout=0;" in rendered
        assert "return 301 https://127.0.0.1:18443$request_uri;" in rendered

    @pytest.mark.parametrize(("megabytes", "limit"), [("25", "25664k"), ("1", "1088k")])
    def test_upload_limit_follows_the_app_setting(
        self, env: Path, megabytes: str, limit: str
    ) -> None:
        env.write_text(
            env.read_text().replace("ATUM_MAX_UPLOAD_MB=25", f"ATUM_MAX_UPLOAD_MB={megabytes}")
        )
        rendered = self.render(env).stdout
        api = rendered[rendered.index("location /api/ {") :]
        assert api[: api.index("}")].split("client_max_body_size ")[1].startswith(f"{limit};")

    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("PUBLIC_URL", "https://desk.example.com; return 200 x"),
            ("PUBLIC_URL", "http://desk.example.com"),
            ("DATA_DIR", "/opt/atum desk"),
            ("WEB_ROOT", "relative/dist"),
            ("NGINX_HTTPS_LISTEN", "443 ssl; include /etc/passwd"),
            ("MAX_UPLOAD_MB", "25m"),
        ],
    )
    def test_refuses_values_that_would_change_the_config(
        self, env: Path, key: str, value: str
    ) -> None:
        with env.open("a") as f:
            f.write(f"ATUM_{key}={value}\n")
        rendered = self.render(env)
        assert rendered.code == 2
        assert rendered.stdout == ""
        assert f"ATUM_{key}" in rendered.stderr


class TestInstaller:
    def test_dry_run_into_a_prefix_writes_nothing(self, tmp_path: Path) -> None:
        root = tmp_path / "root"
        planned = run(INSTALL, "--prefix", root, "--dry-run")
        assert planned.code == 0, planned.stderr
        assert not root.exists()
        for line in (
            "would create /opt/atum-desk/data/uploads/ (750)",
            "would install /etc/atum-desk/atum-desk.env",
            "would install /etc/systemd/system/atum-desk-api.service",
            "would install /etc/nginx/sites-available/atum-desk.conf",
            "would install /usr/local/bin/atum-desk",
            "would create a self-signed certificate",
            "skipped (--prefix): apt-get install postgresql nginx",
            "skipped (--prefix): systemctl start atum-desk.target",
        ):
            assert line in planned.stdout, line

    def test_dry_run_on_this_host_changes_nothing(self) -> None:
        watched = [
            Path("/opt/atum-desk"),
            Path("/etc/atum-desk"),
            Path("/etc/nginx/sites-available/atum-desk.conf"),
            Path("/etc/nginx/sites-enabled/atum-desk.conf"),
            Path("/etc/systemd/system/atum-desk-api.service"),
            Path("/usr/local/bin/atum-desk"),
            Path("/var/backups/atum-desk"),
        ]
        before = {p: p.exists() for p in watched}
        user_before = run("getent", "passwd", "atum-desk").code
        planned = run(INSTALL, "--dry-run")
        assert planned.code == 0, planned.stderr
        assert {p: p.exists() for p in watched} == before
        assert run("getent", "passwd", "atum-desk").code == user_before
        assert "Dry run finished" in planned.stdout
        if not before[Path("/etc/atum-desk")]:
            assert "would create system user atum-desk" in planned.stdout or user_before == 0
            assert "would create roles atum_desk_owner and atum_desk" in planned.stdout
            assert "would run: systemctl start atum-desk.target" in planned.stdout

    def test_prefix_install_is_complete_idempotent_and_repairs_drift(self, tmp_path: Path) -> None:
        root = tmp_path / "root"
        first = run(INSTALL, "--prefix", root, "--public-url", "https://desk.example.test")
        assert first.code == 0, first.stderr + first.stdout
        self.assert_complete(root)
        self.assert_postgresql_sized(root, first.stdout)

        before = snapshot(root)
        again = run(INSTALL, "--prefix", root)
        assert again.code == 0, again.stderr
        assert snapshot(root) == before
        assert "Nothing changed: the installation is up to date." in again.stdout
        assert not re.search(r"^    (install|update|create|remove|chmod|link) ", again.stdout, re.M)

        # Drift: an edited program file, a stale file, and an operator's change to the settings.
        config = root / "opt/atum-desk/app/api/app/config.py"
        config.write_text("broken = True\n")
        (root / "opt/atum-desk/app/api/app/obsolete.py").write_text("")
        env = root / "etc/atum-desk/atum-desk.env"
        env.write_text(env.read_text().replace("ATUM_MAX_UPLOAD_MB=25", "ATUM_MAX_UPLOAD_MB=50"))
        secret = env.read_text()
        repaired = run(INSTALL, "--prefix", root)
        assert repaired.code == 0, repaired.stderr
        changes = re.findall(
            r"^    ((?:install|update|create|remove|chmod|link) .*)$", repaired.stdout, re.M
        )
        assert changes == [
            "update /opt/atum-desk/app/api/app/config.py",
            "remove /opt/atum-desk/app/api/app/obsolete.py",
            "update /etc/nginx/sites-available/atum-desk.conf",
        ]
        assert config.read_bytes() == (REPO / "api/app/config.py").read_bytes()
        assert env.read_text() == secret
        site = (root / "etc/nginx/sites-available/atum-desk.conf").read_text()
        assert "client_max_body_size 51264k;" in site

    @staticmethod
    def assert_postgresql_sized(root: Path, output: str) -> None:
        """The conf.d file of the local cluster holds app/pgconf.py's settings for this host and
        this installation's API workers, and they are sane."""
        from app import pgconf

        listed = run("pg_lsclusters", "--no-header") if shutil.which("pg_lsclusters") else None
        clusters = [line.split() for line in (listed.stdout if listed else "").splitlines()]
        cluster = next((c for c in clusters if c[2] == "5432"), None)
        if cluster is None:
            assert "no local PostgreSQL cluster on port 5432" in output
            return
        version, name, data = cluster[0], cluster[1], cluster[5]
        conf = root / f"etc/postgresql/{version}/{name}/conf.d/atum-desk.conf"
        assert conf.stat().st_mode & 0o7777 == 0o644
        env = (root / "etc/atum-desk/atum-desk.env").read_text()
        workers = int(re.search(r"^ATUM_API_WORKERS=(\d+)$", env, re.M).group(1))  # type: ignore[union-attr]
        text = conf.read_text()
        host = pgconf.detect_host(Path(data))
        assert text == pgconf.render(host, api_workers=workers, pool_size=pgconf.DEFAULT_POOL_SIZE)
        values = dict(re.findall(r"^(\w+) = '([^']*)'$", text, re.M))
        ram_mb = host.ram_bytes // 2**20

        def mb(name: str) -> int:
            assert values[name].endswith("MB"), values[name]
            return int(values[name].removesuffix("MB"))

        assert 128 <= mb("shared_buffers") <= max(128, ram_mb // 4)
        assert mb("shared_buffers") < mb("effective_cache_size") < ram_mb
        assert 4 <= mb("work_mem") <= 64
        assert 64 <= mb("maintenance_work_mem") <= 1024
        pool = pgconf.DEFAULT_POOL_SIZE  # every API process: its pool + 2 listeners
        assert int(values["max_connections"]) >= workers * (pool + 2) + 2 * (pool + 1) + 10
        assert values["random_page_cost"] == ("1.1" if host.ssd else "4")
        assert mb("min_wal_size") < mb("max_wal_size")
        assert "sized for this host" in text.splitlines()[0]

    @staticmethod
    def assert_complete(root: Path) -> None:
        def mode(relative: str) -> int:
            return (root / relative).stat().st_mode & 0o7777

        env = root / "etc/atum-desk/atum-desk.env"
        assert mode("etc/atum-desk/atum-desk.env") == mode("etc/atum-desk/owner.env") == 0o600
        assert mode("etc/atum-desk") == 0o700
        assert mode("etc/atum-desk/tls/privkey.pem") == 0o600
        settings = dict(
            line.split("=", 1) for line in env.read_text().splitlines() if line[:1] not in "#"
        )
        assert settings["ATUM_ENV"] == "production"
        assert settings["ATUM_PUBLIC_URL"] == "https://desk.example.test"
        assert len(settings["ATUM_SECRET_KEY"]) >= 32
        assert settings["ATUM_ACCEL_REDIRECT_PREFIX"] == "/_atum_uploads"
        assert re.fullmatch(
            r"postgresql://atum_desk:[0-9a-f]{48}@127\.0\.0\.1:5432/atum_desk",
            settings["ATUM_DATABASE_URL"],
        )
        owner = (root / "etc/atum-desk/owner.env").read_text()
        assert "postgresql://atum_desk_owner:" in owner

        assert mode("opt/atum-desk/data") == mode("opt/atum-desk/data/uploads") == 0o750
        assert mode("var/backups/atum-desk") == 0o700
        for unit in UNITS:
            assert (root / "etc/systemd/system" / unit.name).read_bytes() == unit.read_bytes()
        assert mode("usr/local/bin/atum-desk") == 0o755
        assert (root / "opt/atum-desk/app/api/app/main.py").read_bytes() == (
            REPO / "api/app/main.py"
        ).read_bytes()
        assert (root / "opt/atum-desk/app/web/dist/index.html").is_file()

        cert = root / "etc/atum-desk/tls/fullchain.pem"
        shown = run("openssl", "x509", "-in", cert, "-noout", "-subject", "-ext", "subjectAltName")
        assert "CN = desk.example.test" in shown.stdout
        assert "DNS:desk.example.test" in shown.stdout

        site = root / "etc/nginx/sites-available/atum-desk.conf"
        assert site.read_text() == run(RENDER, env).stdout
        assert os.readlink(root / "etc/nginx/sites-enabled/atum-desk.conf") == (
            "/etc/nginx/sites-available/atum-desk.conf"
        )

        python = root / "opt/atum-desk/venv/bin/python"
        imported = run(
            python, "-c", "import app.main, gunicorn, uvicorn_worker, asyncpg; print('ok')",
            env={"PYTHONPATH": str(root / "opt/atum-desk/app/api")},
        )  # fmt: skip
        assert imported.stdout.strip() == "ok", imported.stderr

    def test_offline_install_uses_only_the_bundle(self, tmp_path: Path) -> None:
        bundle = tmp_path / "atum-desk-bundle"
        app = bundle / "app"
        for part in ("api/app", "api/migrations", "docs", "infra"):
            shutil.copytree(REPO / part, app / part, ignore=shutil.ignore_patterns("__pycache__"))
        for part in ("api/alembic.ini", "api/pyproject.toml", "api/uv.lock", "README.md"):
            shutil.copy2(REPO / part, app / part)
        (app / "api/requirements.txt").write_text("atum-offline-probe==1.0\n")
        (app / "web/dist").mkdir(parents=True)
        (app / "web/dist/index.html").write_text("<!doctype html><title>bundled UI</title>")
        (bundle / "wheels").mkdir()
        probe_wheel(bundle / "wheels")

        root = tmp_path / "root"
        offline = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "http_proxy": "http://127.0.0.1:9",
            "https_proxy": "http://127.0.0.1:9",
            "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        }
        installed = run(
            app / "infra/scripts/install.sh", "--offline", "--prefix", root, env=offline
        )
        assert installed.code == 0, installed.stderr + installed.stdout
        assert f"from {bundle}/wheels (no network)" in installed.stdout
        probe = run(
            root / "opt/atum-desk/venv/bin/python",
            "-c",
            "import atum_offline_probe as p; print(p.SOURCE)",
        )
        assert probe.stdout.strip() == "bundle"
        assert (
            (root / "opt/atum-desk/app/web/dist/index.html")
            .read_text()
            .endswith("bundled UI</title>")
        )

    def test_offline_without_wheels_is_refused(self, tmp_path: Path) -> None:
        refused = run(INSTALL, "--offline", "--bundle", tmp_path, "--prefix", tmp_path / "root")
        assert refused.code == 2
        assert f"--offline: no wheels/ in {tmp_path}" in refused.stderr
        assert not (tmp_path / "root").exists()


def probe_wheel(directory: Path) -> Path:
    """A minimal, valid pure-Python wheel (so the offline test needs no index at all)."""
    name = "atum_offline_probe-1.0-py3-none-any.whl"
    files = {
        "atum_offline_probe.py": "SOURCE = 'bundle'\n",
        "atum_offline_probe-1.0.dist-info/METADATA": (
            "Metadata-Version: 2.1\nName: atum-offline-probe\nVersion: 1.0\n"
        ),
        "atum_offline_probe-1.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(
        f"{path},sha256={_urlsafe_digest(text.encode())},{len(text.encode())}\n"
        for path, text in files.items()
    )
    files["atum_offline_probe-1.0.dist-info/RECORD"] = (
        record + "atum_offline_probe-1.0.dist-info/RECORD,,\n"
    )
    with zipfile.ZipFile(directory / name, "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)
    return directory / name


def _urlsafe_digest(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
