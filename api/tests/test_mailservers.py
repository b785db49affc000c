"""The mail test servers of tests/mailservers.py work: SMTP into a real Postfix comes out over
LMTP to a real (aiosmtpd) LMTP server with the right envelope, a 451 there is retried by Postfix
and delivered exactly once, two Postfix instances run side by side, and a real Dovecot takes
APPENDs, lists UIDs and gets a new UIDVALIDITY on reset_uidvalidity with its messages kept."""

from __future__ import annotations

import smtplib
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP

from tests.mailservers import Dovecot, Postfix, dovecot, free_port, mail_root, postfix

DOMAIN = "desk.test"


@dataclass
class Delivery:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    reply: str


@dataclass
class Recorder:
    """An aiosmtpd handler that records every LMTP transaction and answers each recipient with
    `reply` (LMTP wants one reply line per accepted recipient)."""

    reply: str = "250 2.0.0 OK"
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self.reply
        with self.lock:
            self.deliveries.append(
                Delivery(
                    envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content, reply
                )
            )
        return "\r\n".join([reply] * len(envelope.rcpt_tos))

    def with_marker(self, marker: bytes) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if marker in d.content]


class LMTPController(Controller):
    def factory(self) -> LMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


@dataclass
class LMTPServer:
    port: int
    handler: Recorder


@pytest.fixture
def lmtp() -> Iterator[LMTPServer]:
    handler = Recorder()
    port = free_port()
    controller = LMTPController(
        handler, hostname="127.0.0.1", port=port, server_hostname="lmtp.desk.test"
    )
    controller.start()
    try:
        yield LMTPServer(port, handler)
    finally:
        controller.stop()


@pytest.fixture
def mta(lmtp: LMTPServer) -> Iterator[Postfix]:
    with mail_root("atum-postfix-") as root, postfix(root, domain=DOMAIN, lmtp_port=lmtp.port) as p:
        yield p


@pytest.fixture
def imap() -> Iterator[Dovecot]:
    with mail_root("atum-dovecot-") as root, dovecot(root) as server:
        yield server


def message(subject: str) -> tuple[bytes, bytes]:
    """A raw message and a marker unique to it."""
    marker = uuid.uuid4().hex.encode()
    raw = (
        b"From: Customer <customer@example.org>\r\n"
        b"To: support@desk.test\r\n"
        b"Subject: " + subject.encode() + b"\r\n"
        b"Date: Mon, 30 Nov 2026 09:00:00 +0000\r\n"
        b"Message-ID: <" + marker + b"@example.org>\r\n"
        b"\r\n"
        b"Hello, body " + marker + b"\r\n"
    )
    return raw, marker


def wait_until(what: str, ready: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.05)


def test_smtp_into_postfix_comes_out_over_lmtp(mta: Postfix, lmtp: LMTPServer) -> None:
    raw, marker = message("delivery")
    recipients = ["support@desk.test", "billing@desk.test"]
    queue_id = mta.send(raw, "customer@example.org", recipients)
    mta.wait_removed(queue_id)
    [delivery] = lmtp.handler.with_marker(marker)
    assert delivery.mail_from == "customer@example.org"
    assert sorted(delivery.rcpt_tos) == sorted(recipients)
    # Postfix prepends its Received: header and otherwise passes the message on unchanged.
    assert delivery.content.startswith(b"Received: from ")
    assert delivery.content.endswith(raw)
    assert mta.queue() == []
    assert f"{queue_id}: to=<support@desk.test>" in mta.log()
    assert "status=sent (250 2.0.0 OK)" in mta.log()


def test_mail_for_other_domains_is_refused(mta: Postfix) -> None:
    # 127.0.0.0/8 is in mynetworks, so relaying is allowed, but the only way out is the error
    # transport, and smtpd refuses recipients routed there at RCPT time.
    raw, _ = message("relay")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        mta.send(raw, "customer@example.org", ["support@desk.test", "someone@elsewhere.example"])
    code, reply = refused.value.recipients["someone@elsewhere.example"]
    assert (code, b"no outbound" in reply) == (550, True)
    assert mta.queue() == []


def test_a_451_is_retried_and_delivered_exactly_once(mta: Postfix, lmtp: LMTPServer) -> None:
    lmtp.handler.reply = "451 4.3.0 try later"
    raw, marker = message("retry")
    queue_id = mta.send(raw, "customer@example.org", ["support@desk.test"])
    wait_until("the first attempt", lambda: lmtp.handler.with_marker(marker))
    mta.wait_for_log(rf"{queue_id}: to=<support@desk.test>.*status=deferred .*451 4\.3\.0")
    assert queue_id in mta.queue()

    lmtp.handler.reply = "250 2.0.0 OK"
    started = time.monotonic()
    mta.wait_removed(queue_id, timeout=10)
    retried_in = time.monotonic() - started
    attempts = lmtp.handler.with_marker(marker)
    assert [a.reply for a in attempts if a.reply.startswith("250")] == ["250 2.0.0 OK"]
    assert all(a.reply.startswith("451") for a in attempts[:-1])
    assert mta.queue() == []
    assert retried_in < 5, retried_in


def test_flush_delivers_deferred_mail_at_once(lmtp: LMTPServer) -> None:
    slow = {
        "queue_run_delay": "300s",
        "minimal_backoff_time": "300s",
        "maximal_backoff_time": "300s",
    }
    with (
        mail_root("atum-postfix-") as root,
        postfix(root, domain=DOMAIN, lmtp_port=lmtp.port, main_cf=slow) as mta,
    ):
        lmtp.handler.reply = "451 4.3.0 try later"
        raw, marker = message("flush")
        queue_id = mta.send(raw, "customer@example.org", ["support@desk.test"])
        mta.wait_for_log(rf"{queue_id}: to=<support@desk.test>.*status=deferred")
        time.sleep(1.5)  # no retry of its own for 300 s
        assert len(lmtp.handler.with_marker(marker)) == 1
        assert [e["queue_name"] for e in mta.queue_entries()] == ["deferred"]

        lmtp.handler.reply = "250 2.0.0 OK"
        mta.flush()
        mta.wait_removed(queue_id, timeout=5)
        assert [a.reply for a in lmtp.handler.with_marker(marker)][-1] == "250 2.0.0 OK"


def test_two_postfix_instances_run_side_by_side(lmtp: LMTPServer) -> None:
    with (
        mail_root("atum-postfix-") as root,
        postfix(root / "a", domain="a.test", lmtp_port=lmtp.port) as first,
        postfix(root / "b", domain="b.test", lmtp_port=lmtp.port) as second,
    ):
        assert first.port != second.port
        raw_a, marker_a = message("first")
        raw_b, marker_b = message("second")
        id_a = first.send(raw_a, "customer@example.org", ["support@a.test"])
        id_b = second.send(raw_b, "customer@example.org", ["support@b.test"])
        first.wait_removed(id_a)
        second.wait_removed(id_b)
        assert [d.rcpt_tos for d in lmtp.handler.with_marker(marker_a)] == [["support@a.test"]]
        assert [d.rcpt_tos for d in lmtp.handler.with_marker(marker_b)] == [["support@b.test"]]
        assert id_b not in first.log()
        assert id_a not in second.log()


def test_dovecot_append_uids_and_uidvalidity_reset(imap: Dovecot) -> None:
    raws = [message(f"imap {n}")[0] for n in range(3)]
    assert [imap.append(raw) for raw in raws] == [1, 2, 3]
    assert imap.uids() == [1, 2, 3]
    assert list(imap.messages().values()) == raws
    assert imap.append(raws[0], folder="Archive") == 1
    assert imap.uids("Archive") == [1]

    before = imap.uidvalidity()
    archive_before = imap.uidvalidity("Archive")
    after = imap.reset_uidvalidity()
    assert after != before
    assert imap.uidvalidity() == after
    assert imap.uids() == [1, 2, 3]
    assert sorted(imap.messages().values()) == sorted(raws)
    assert imap.uidvalidity("Archive") == archive_before
    # Appending after the reset continues under the new UIDVALIDITY.
    assert imap.append(raws[1]) == 4


def test_dovecot_users_and_restart(imap: Dovecot) -> None:
    imap.add_user("sales", "hunter2")
    assert imap.append(b"Subject: to sales\r\n\r\nx\r\n", user="sales") == 1
    assert imap.uids(user="sales") == [1]
    assert imap.uids() == []
    validity = imap.uidvalidity(user="sales")

    imap.stop()
    with pytest.raises(OSError):
        imap.uids()
    imap.start()
    assert imap.uids(user="sales") == [1]
    assert imap.uidvalidity(user="sales") == validity


def test_dovecot_needs_a_directory_nobody_can_reach(tmp_path: Path) -> None:
    from tests.mailservers import MailServerError

    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(MailServerError, match="not traversable by nobody"), dovecot(private / "x"):
        pass
