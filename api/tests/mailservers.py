"""Real Postfix and Dovecot for the e-mail tests, each a private instance on a free 127.0.0.1 port
with its whole configuration, queue, mail and log under a directory the test owns; no mocks.

    with mail_root() as root, dovecot(root / "imap") as imap:
        uid = imap.append(b"Subject: hi\\r\\n\\r\\nbody\\r\\n")
    with mail_root() as root, postfix(root / "mta", domain="desk.test", lmtp_port=port) as mta:
        queue_id = mta.send(raw, "a@example.org", ["support@desk.test"])

Dovecot serves IMAP only (no TLS, plaintext logins allowed) from Maildirs owned by `nobody`, so
its directory must be reachable by `nobody`: `mail_root()` makes one under /tmp (pytest's
tmp_path is not: /tmp/pytest-of-root is 0700). Postfix accepts mail for one domain and hands
it over LMTP to 127.0.0.1:<lmtp_port>; its only other transport is "error:no outbound", and
smtpd refuses recipients routed there at RCPT time (550), so nothing leaves the machine.
Retries run every second, so a test sees a 4xx reply retried within 1-2 s. Several instances
of each may run at once (different directories and ports). Both need root (the masters start
as root and drop privileges)."""

from __future__ import annotations

import contextlib
import imaplib
import json
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

POSTFIX_BIN = "/usr/sbin/postfix"
POSTQUEUE_BIN = "/usr/sbin/postqueue"
DOVECOT_BIN = "/usr/sbin/dovecot"
HOST = "127.0.0.1"
# Every wait on a server is bounded by this; a timeout raises with the server's log tail.
STARTUP_TIMEOUT = 20.0
MAIL_USER = "nobody"
# The IMAP account every dovecot() has.
USER = "support"
PASSWORD = "secret"


class MailServerError(RuntimeError):
    """A server did not start, stop or answer in time; the message carries its log tail."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 free right now (the kernel's choice; a race is possible but rare)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def mail_root(prefix: str = "atum-mail-") -> Iterator[Path]:
    """A fresh directory under /tmp that `nobody` can traverse (0755), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    try:
        path.chmod(0o755)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text.splitlines()[-lines:]) or f"({path} is empty)"


def _wait(
    ready: Callable[[], bool], what: str, log: Path, timeout: float = STARTUP_TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise MailServerError(f"{what}: not done after {timeout:g} s; {log}:\n{_tail(log)}")
        time.sleep(0.05)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


def _greets(port: int, prefix: bytes) -> bool:
    """Whether a server on the port sends a greeting starting with prefix."""
    try:
        with socket.create_connection((HOST, port), timeout=2) as sock:
            sock.settimeout(2)
            return sock.recv(512).startswith(prefix)
    except OSError:
        return False


def _alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie (daemons are not our children)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _run(argv: list[str], what: str, log: Path) -> str:
    """Run a command, return its output; raise with the output and the log tail if it fails.
    The output goes through a file, not a pipe: a daemon keeps its inherited stderr open, and
    reading a pipe to its end would then wait for the daemon to exit."""
    with tempfile.TemporaryFile() as out:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=STARTUP_TIMEOUT,
            check=False,
        )
        out.seek(0)
        output = out.read().decode(errors="replace")
    if done.returncode != 0:
        raise MailServerError(
            f"{what}: {' '.join(argv)} exited {done.returncode}\n{output}\n{log}:\n{_tail(log)}"
        )
    return output


def _require_root() -> None:
    if os.geteuid() != 0:
        raise MailServerError("the Postfix and Dovecot test servers need root")


def _reachable_by(path: Path, user: str) -> None:
    """Raise unless `user` (not root, not the owner) can traverse every ancestor of path."""
    for parent in [path, *path.parents]:
        if not parent.exists():
            continue
        st = parent.stat()
        if not st.st_mode & 0o001 and st.st_uid != pwd.getpwnam(user).pw_uid:
            raise MailServerError(
                f"{parent} (mode {st.st_mode & 0o777:o}) is not traversable by {user}: "
                "use mailservers.mail_root() for the Dovecot directory"
            )


class _Server(Protocol):
    port: int

    def start(self) -> None: ...


def _start(server: _Server, configure: Callable[[], None], *, fixed_port: bool) -> None:
    """Configure and start; if another process took the chosen port meanwhile, try another."""
    for attempt in range(3):
        configure()
        try:
            server.start()
            return
        except MailServerError as error:
            if fixed_port or attempt == 2 or "Address already in use" not in str(error):
                raise
            server.port = free_port()


def _imap_quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------------------- Dovecot

_DOVECOT_CONF = """\
# Written by tests/mailservers.py: a private IMAP-only Dovecot on {host}:{port}.
instance_name = atum-test-{port}
base_dir = {root}/run
state_dir = {root}/state
protocols = imap
listen = {host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {root}/dovecot.log
mail_location = maildir:~/Maildir
first_valid_uid = {uid}
last_valid_uid = {uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@dataclass
class Dovecot:
    """A running private Dovecot (see `dovecot()`); IMAP helpers log in as `user` unless told."""

    host: str
    port: int
    user: str
    password: str
    root: Path
    users: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def add_user(self, name: str, password: str) -> None:
        """Add (or re-password) a user; passwd-file is re-read on change, no restart needed."""
        if any(c in name + password for c in ":\n"):
            raise ValueError("user names and passwords may not contain ':' or newlines")
        self.users[name] = password
        lines = [f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items()]
        users = self.root / "users"
        users.write_text("".join(lines))
        users.chmod(0o644)  # read by the auth process (user dovecot); test passwords only

    def maildir(self, folder: str = "INBOX", user: str | None = None) -> Path:
        """The Maildir++ directory of a folder: INBOX is ~/Maildir, others ~/Maildir/.<name>."""
        base = self.root / "mail" / (user or self.user) / "Maildir"
        return base if folder.upper() == "INBOX" else base / f".{folder}"

    # -- lifecycle

    def start(self) -> None:
        _require_root()
        _run([DOVECOT_BIN, "-c", str(self.config)], "dovecot start", self.log_path)
        _wait(lambda: _greets(self.port, b"* OK"), "dovecot IMAP greeting", self.log_path)

    def stop(self) -> None:
        """SIGTERM the master (run/master.pid) and wait until it is gone and the port is free.
        Dovecot's master sleeps a second on shutdown, so this takes 1-3 s."""
        pid = _read_pid(self.root / "run" / "master.pid")
        if pid is None or not _alive(pid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        try:
            _wait(lambda: not _alive(pid), "dovecot master exit", self.log_path)
        except MailServerError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            raise
        _wait(lambda: not _listening(self.port), "dovecot port release", self.log_path)

    # -- IMAP

    @contextmanager
    def client(self, user: str | None = None) -> Iterator[imaplib.IMAP4]:
        """A logged-in stdlib IMAP client, logged out afterwards."""
        name = user or self.user
        imap = imaplib.IMAP4(self.host, self.port, timeout=STARTUP_TIMEOUT)
        try:
            imap.login(name, self.users[name])
            yield imap
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                imap.logout()

    def create(self, folder: str, user: str | None = None) -> None:
        """Create a folder; an existing one is left alone."""
        if folder.upper() == "INBOX":
            return
        with self.client(user) as imap:
            typ, data = imap.create(_imap_quote(folder))
            if typ != "OK" and b"ALREADYEXISTS" not in b" ".join(_bytes(d) for d in data):
                raise MailServerError(f"CREATE {folder}: {typ} {data!r}")

    def append(self, raw: bytes, folder: str = "INBOX", user: str | None = None) -> int:
        """APPEND a message (creating the folder if needed) and return its UID (APPENDUID)."""
        self.create(folder, user)
        with self.client(user) as imap:
            typ, data = imap.append(_imap_quote(folder), "", None, raw)
        text = b" ".join(_bytes(d) for d in data)
        found = re.search(rb"\[APPENDUID (\d+) (\d+)\]", text)
        if typ != "OK" or found is None:
            raise MailServerError(f"APPEND to {folder}: {typ} {data!r}")
        return int(found.group(2))

    def uids(self, folder: str = "INBOX", user: str | None = None) -> list[int]:
        with self.client(user) as imap:
            self._select(imap, folder)
            typ, data = imap.uid("SEARCH", "ALL")
        if typ != "OK":
            raise MailServerError(f"UID SEARCH in {folder}: {typ} {data!r}")
        return sorted(int(n) for d in data for n in _bytes(d).split())

    def messages(self, folder: str = "INBOX", user: str | None = None) -> dict[int, bytes]:
        """UID -> raw message (BODY.PEEK[], so \\Seen is not set)."""
        with self.client(user) as imap:
            self._select(imap, folder)
            typ, data = imap.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
        if typ != "OK":
            raise MailServerError(f"UID FETCH in {folder}: {typ} {data!r}")
        found: dict[int, bytes] = {}
        for item in data:
            if isinstance(item, tuple):
                uid = re.search(rb"UID (\d+)", item[0])
                if uid is not None:
                    found[int(uid.group(1))] = item[1]
        return found

    def uidvalidity(self, folder: str = "INBOX", user: str | None = None) -> int:
        with self.client(user) as imap:
            typ, data = imap.status(_imap_quote(folder), "(UIDVALIDITY)")
        found = re.search(rb"UIDVALIDITY (\d+)", b" ".join(_bytes(d) for d in data))
        if typ != "OK" or found is None:
            raise MailServerError(f"STATUS {folder}: {typ} {data!r}")
        return int(found.group(1))

    def reset_uidvalidity(self, folder: str = "INBOX", user: str | None = None) -> int:
        """Give the folder a new UIDVALIDITY, keeping its messages; returns the new value.

        Stops Dovecot, deletes the folder's dovecot-uidlist and index files and the account's
        mailbox list index, and starts it again: Dovecot then rebuilds the folder from the
        message files, numbering them again from UID 1 under a new UIDVALIDITY (taken from
        the account's dovecot-uidvalidity counter, so it always differs from the old one).
        This is what a client sees when a server is rebuilt or migrated."""
        old = self.uidvalidity(folder, user)
        count = len(self.uids(folder, user))
        self.stop()
        box = self.maildir(folder, user)
        for junk in [*box.glob("dovecot-uidlist*"), *box.glob("dovecot.index*")]:
            junk.unlink()
        for junk in self.maildir("INBOX", user).glob("dovecot.list.index*"):
            junk.unlink()
        self.start()
        new = self.uidvalidity(folder, user)
        after = len(self.uids(folder, user))
        if new == old or after != count:
            raise MailServerError(
                f"reset_uidvalidity({folder}): UIDVALIDITY {old} -> {new}, "
                f"messages {count} -> {after}"
            )
        return new

    @staticmethod
    def _select(imap: imaplib.IMAP4, folder: str) -> None:
        typ, data = imap.select(_imap_quote(folder), readonly=True)
        if typ != "OK":
            raise MailServerError(f"SELECT {folder}: {typ} {data!r}")


def _bytes(item: Any) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, tuple):
        return b" ".join(_bytes(i) for i in item)
    return str(item).encode()


@contextmanager
def dovecot(
    root: Path, *, user: str = USER, password: str = PASSWORD, port: int | None = None
) -> Iterator[Dovecot]:
    """Start a private IMAP-only Dovecot under root (created; it and its ancestors must be
    traversable by `nobody`, e.g. under `mail_root()`), with one user; stop it afterwards."""
    _require_root()
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    _reachable_by(root, MAIL_USER)
    mail_owner = pwd.getpwnam(MAIL_USER)
    (root / "mail").mkdir(exist_ok=True)
    os.chown(root / "mail", mail_owner.pw_uid, mail_owner.pw_gid)
    server = Dovecot(HOST, port or free_port(), user, password, root.resolve())
    server.add_user(user, password)

    def configure() -> None:
        server.config.write_text(
            _DOVECOT_CONF.format(
                host=HOST,
                port=server.port,
                root=server.root,
                uid=mail_owner.pw_uid,
                gid=mail_owner.pw_gid,
            )
        )

    try:
        _start(server, configure, fixed_port=port is not None)
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------- Postfix

# name, type, private, unpriv, chroot, wakeup, maxproc, command: no chroot anywhere (the
# queue is not under /var/spool/postfix), no local delivery, no TLS.
_MASTER_CF = """\
{host}:{port} inet n - n - - smtpd
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n -  0 cleanup
qmgr       unix  n - n 300 1 qmgr
rewrite    unix  - - n -  - trivial-rewrite
bounce     unix  - - n -  0 bounce
defer      unix  - - n -  0 bounce
trace      unix  - - n -  0 bounce
verify     unix  - - n -  1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -  - proxymap
proxywrite unix  - - n -  1 proxymap
smtp       unix  - - n -  - smtp
relay      unix  - - n -  - smtp
showq      unix  n - n -  - showq
error      unix  - - n -  - error
retry      unix  - - n -  - error
discard    unix  - - n -  - discard
lmtp       unix  - - n -  - lmtp
anvil      unix  - - n -  1 anvil
scache     unix  - - n -  1 scache
postlog    unix-dgram n - n - 1 postlogd
"""


def _main_cf(root: Path, domain: str, lmtp_port: int, message_size_limit: int) -> dict[str, str]:
    return {
        "compatibility_level": "3.6",
        "config_directory": f"{root}/etc",
        "queue_directory": f"{root}/spool",
        "data_directory": f"{root}/data",
        "mail_owner": "postfix",
        "setgid_group": "postdrop",
        "syslog_name": "postfix-test",
        # postlogd writes here; without the prefix `postfix start` exits 1 without a word.
        "maillog_file": f"{root}/maillog",
        "maillog_file_prefixes": str(root),
        "myhostname": "mx.atum-test.invalid",
        "myorigin": "$myhostname",
        "mydestination": "",
        "local_recipient_maps": "",
        "local_transport": "error:no local delivery",
        "inet_interfaces": HOST,
        "inet_protocols": "ipv4",
        "mynetworks": "127.0.0.0/8",
        "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
        "virtual_mailbox_domains": domain,
        "virtual_transport": f"lmtp:inet:{HOST}:{lmtp_port}",
        "default_transport": "error:no outbound",
        "relay_transport": "error:no outbound",
        "message_size_limit": str(message_size_limit),
        "mailbox_size_limit": "0",
        "virtual_mailbox_limit": "0",
        "queue_run_delay": "1s",
        "minimal_backoff_time": "1s",
        "maximal_backoff_time": "2s",
        "biff": "no",
        "append_dot_mydomain": "no",
        "smtpd_banner": "$myhostname ESMTP",
    }


@dataclass
class Postfix:
    """A running private Postfix (see `postfix()`)."""

    host: str
    port: int
    domain: str
    lmtp_port: int
    root: Path

    @property
    def config_dir(self) -> Path:
        return self.root / "etc"

    @property
    def log_path(self) -> Path:
        return self.root / "maillog"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- lifecycle

    def start(self) -> None:
        _require_root()
        _run([POSTFIX_BIN, "-c", str(self.config_dir), "start"], "postfix start", self.log_path)
        _wait(lambda: _greets(self.port, b"220"), "postfix SMTP greeting", self.log_path)

    def stop(self) -> None:
        """`postfix stop` (asynchronous), then wait until the master is gone and the port free."""
        pid = _read_pid(self.root / "spool" / "pid" / "master.pid")
        if pid is None or not _alive(pid):
            return
        with contextlib.suppress(MailServerError):  # already stopping: the wait decides
            _run([POSTFIX_BIN, "-c", str(self.config_dir), "stop"], "postfix stop", self.log_path)
        try:
            _wait(lambda: not _alive(pid), "postfix master exit", self.log_path)
        except MailServerError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            raise
        _wait(lambda: not _listening(self.port), "postfix port release", self.log_path)

    # -- mail

    def send(self, raw: bytes, mail_from: str, rcpt_to: list[str]) -> str:
        """Submit a message over SMTP and return its queue id. Raises smtplib's
        SMTPSenderRefused, SMTPRecipientsRefused (if any recipient is refused; nothing is
        sent then) or SMTPDataError like `sendmail` does. Bytes go out as they are."""
        with smtplib.SMTP(self.host, self.port, "localhost", STARTUP_TIMEOUT) as smtp:
            code, reply = smtp.ehlo()
            if code != 250:
                raise smtplib.SMTPHeloError(code, reply)
            code, reply = smtp.mail(mail_from)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, mail_from)
            refused: dict[str, tuple[int, bytes]] = {}
            for rcpt in rcpt_to:
                code, reply = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    refused[rcpt] = (code, reply)
            if refused:
                smtp.rset()
                raise smtplib.SMTPRecipientsRefused(refused)
            code, reply = smtp.data(raw)
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
        found = re.search(rb"queued as ([0-9A-Za-z]+)", reply)
        if found is None:
            raise MailServerError(f"no queue id in the DATA reply {reply!r}")
        return found.group(1).decode()

    def flush(self) -> None:
        """Attempt delivery of all queued mail now (`postfix flush`)."""
        _run([POSTFIX_BIN, "-c", str(self.config_dir), "flush"], "postfix flush", self.log_path)

    def queue_entries(self) -> list[dict[str, Any]]:
        """The queue as `postqueue -j` reports it, one dict per message."""
        out = _run([POSTQUEUE_BIN, "-c", str(self.config_dir), "-j"], "postqueue -j", self.log_path)
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    def queue(self) -> list[str]:
        """Ids of the queued messages (any queue: incoming, active, deferred, hold)."""
        return [str(entry["queue_id"]) for entry in self.queue_entries()]

    def wait_for_log(self, pattern: str, timeout: float = STARTUP_TIMEOUT) -> re.Match[str]:
        """Wait until a maillog line matches the regex; return the match."""
        found: list[re.Match[str]] = []

        def seen() -> bool:
            match = re.search(pattern, self.log(), re.MULTILINE)
            if match is not None:
                found.append(match)
            return match is not None

        _wait(seen, f"maillog line matching {pattern!r}", self.log_path, timeout)
        return found[0]

    def wait_removed(self, queue_id: str, timeout: float = STARTUP_TIMEOUT) -> None:
        """Wait until the message has left the queue for good (delivered or bounced)."""
        self.wait_for_log(rf"\b{re.escape(queue_id)}: removed$", timeout)


@contextmanager
def postfix(
    root: Path,
    *,
    domain: str,
    lmtp_port: int,
    message_size_limit: int = 60_000_000,
    port: int | None = None,
    main_cf: Mapping[str, str] | None = None,
) -> Iterator[Postfix]:
    """Start a private Postfix under root (created) taking SMTP on a free 127.0.0.1 port and
    delivering mail for `domain` over LMTP to 127.0.0.1:lmtp_port; `main_cf` overrides or adds
    main.cf parameters. Stopped afterwards."""
    _require_root()
    root = root.resolve()
    server = Postfix(HOST, port or free_port(), domain, lmtp_port, root)
    for sub in ("etc", "spool", "data"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    # `postfix start` creates the queue directories itself; the data directory must be its own.
    owner = pwd.getpwnam("postfix")
    os.chown(root / "data", owner.pw_uid, owner.pw_gid)
    params = {**_main_cf(root, domain, lmtp_port, message_size_limit), **(main_cf or {})}

    def configure() -> None:
        etc = root / "etc"
        (etc / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in params.items()))
        (etc / "master.cf").write_text(_MASTER_CF.format(host=HOST, port=server.port))
        # Postfix will not read a main.cf changed within the last second or so (it may be half
        # written): it sleeps 0.3 s and rereads, 1.8 s in all. Backdating the files saves that.
        past = time.time() - 60
        for name in ("main.cf", "master.cf"):
            os.utime(etc / name, (past, past))

    try:
        _start(server, configure, fixed_port=port is not None)
        yield server
    finally:
        server.stop()
