"""Mail by hand, for trying the channel without a mail server: hand a message to the LMTP
listener as an MTA would, or answer a notification the dev mail sink kept (``var/mail/*.eml``)
the way a mail client answers it (To the Reply-To address, In-Reply-To/References, the original
quoted below). Used by ``./atum-desk mail deliver`` and ``./atum-desk mail reply``."""

from __future__ import annotations

import smtplib
import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, parseaddr

from app.utils.clock import utcnow


class DeliveryRefused(Exception):
    """The listener refused the message (its answer is the message)."""


def deliver(raw: bytes, *, host: str, port: int, mail_from: str, rcpt: str) -> str:
    """One LMTP transaction; returns the listener's answer for the recipient."""
    with smtplib.LMTP(host, port, timeout=30) as client:
        try:
            refused = client.sendmail(mail_from, [rcpt], raw)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = exc.recipients[rcpt]
            raise DeliveryRefused(f"{code} {text.decode(errors='replace')}") from exc
        except smtplib.SMTPDataError as exc:
            error = exc.smtp_error
            detail = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
            raise DeliveryRefused(f"{exc.smtp_code} {detail}") from exc
        if refused:
            code, text = refused[rcpt]
            raise DeliveryRefused(f"{code} {text.decode(errors='replace')}")
    return "250 stored"


def reply_to(original: bytes, text: str, *, sender: str | None = None) -> tuple[bytes, str, str]:
    """(reply, envelope sender, recipient) for *original*, as a mail client writes it."""
    msg = BytesParser(policy=policy.default).parsebytes(original)
    recipient = parseaddr(str(msg.get("Reply-To") or msg.get("From") or ""))[1]
    if not recipient:
        raise ValueError("the mail has neither Reply-To nor From")
    author = sender or parseaddr(str(msg.get("To") or ""))[1]
    if not author:
        raise ValueError("give the sender (--from): the mail names no recipient")
    body = msg.get_body(preferencelist=("plain",))
    quoted = ""
    if body is not None:
        quoted = "\n".join(f"> {line}" for line in str(body.get_content()).splitlines())
    reply = EmailMessage()
    reply["From"] = author
    reply["To"] = recipient
    subject = str(msg.get("Subject") or "")
    reply["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    reply["Date"] = format_datetime(utcnow())
    reply["Message-ID"] = f"<{uuid.uuid4().hex}@{author.rpartition('@')[2] or 'localhost'}>"
    if msg.get("Message-ID"):
        reply["In-Reply-To"] = str(msg["Message-ID"])
        reply["References"] = " ".join(
            part for part in (str(msg.get("References") or ""), str(msg["Message-ID"])) if part
        )
    sent = format_datetime(utcnow())
    reply.set_content(f"{text}\n\nOn {sent}, {msg.get('From')} wrote:\n{quoted}\n")
    return reply.as_bytes(policy=policy.SMTP), author, recipient
