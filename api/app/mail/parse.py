"""Reading a stored message: who sent it, what it answers, whether a robot sent it, the new text
(quoted history and signature split off), and its files. Nothing here trusts the message: a
malformed part degrades to what can be read, never to an exception that loses the mail (the
worker quarantines what still fails, with the error).

Standard library ``email`` (``policy.default``) for MIME, mail-parser-reply for the quoted history
(English and German headers, Outlook's "From:/Sent:" and "Von:/Gesendet:" blocks, "On … wrote:"),
nh3 to sanitise HTML and inscriptis to turn HTML-only mail into text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parseaddr
from typing import Any

import nh3
from inscriptis import get_text
from inscriptis.model.config import ParserConfig
from mailparser_reply import EmailReplyParser

# Headers that say who a message is and what it says; trace headers (Received, Return-Path,
# Delivered-To, …) are left out, so one message delivered by LMTP and fetched by IMAP has one
# identity.
_IDENTITY_HEADERS = (
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
)
_AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_SUBJECT_TAG = re.compile(r"\[(?:ATUM DESK )?#(\d{1,12})\]", re.IGNORECASE)
_MSGID = re.compile(r"<[^<>\s]+>")
_REPLY_LANGUAGES = ["en", "de"]
MAX_TEXT_CHARS = 200_000


def _clean(value: object) -> str:
    """A header or text value as valid text (8-bit bytes outside RFC 2047 arrive as surrogates)."""
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.replace("\x00", "")


def identity(raw: bytes) -> tuple[str | None, str]:
    """(Message-ID, content hash) of a raw message: the hash covers the identity headers and the
    body with line endings normalised, not the trace headers an MTA adds on the way."""
    data = raw.replace(b"\r\n", b"\n")
    head, _, body = data.partition(b"\n\n")
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(head + b"\n\n")
    digest = hashlib.sha256()
    for name in _IDENTITY_HEADERS:
        for value in headers.get_all(name) or []:
            folded = " ".join(str(value).split())
            digest.update(name.encode() + b":" + folded.encode("utf-8", "surrogateescape") + b"\n")
    digest.update(b"\n")
    digest.update(body.rstrip(b"\n"))
    found = _MSGID.search(str(headers.get("message-id") or ""))
    message_id = _clean(found.group(0))[:998] if found else None
    return message_id, digest.hexdigest()


@dataclass(slots=True)
class Attachment:
    file_name: str | None
    content_type: str
    data: bytes
    inline: bool


@dataclass(slots=True)
class DsnRecipient:
    address: str
    action: str
    status: str
    diagnostic: str


@dataclass(slots=True)
class ParsedMail:
    from_address: str | None
    from_name: str
    subject: str
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    # To, Cc, Delivered-To and X-Original-To: where a reply token may be
    recipient_addresses: list[str]
    automatic: bool
    automatic_reason: str | None
    text: str  # the new text: quoted history and signature split off
    quoted: str | None  # what was split off
    attachments: list[Attachment] = field(default_factory=list)
    dsn: list[DsnRecipient] = field(default_factory=list)
    dsn_message_ids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def subject_ticket_number(self) -> int | None:
        found = _SUBJECT_TAG.search(self.subject)
        return int(found.group(1)) if found else None

    @property
    def excerpt(self) -> str:
        return " ".join(self.text.split())[:300]


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError, AttributeError):
        return ""
    return _clean(value) if value is not None else ""


def _addresses(msg: Message, *names: str) -> list[str]:
    found: list[str] = []
    for name in names:
        try:
            values = msg.get_all(name) or []
        except (ValueError, IndexError, TypeError, AttributeError):
            continue
        for _, address in getaddresses([_clean(v) for v in values]):
            if address and "@" in address:
                found.append(address.strip().lower())
    return found


def _message_ids(value: str) -> list[str]:
    return [m.lower() for m in _MSGID.findall(value)]


def _automatic(
    msg: Message, envelope_from: str | None, from_address: str | None, domain: str
) -> str | None:
    auto_submitted = _header(msg, "auto-submitted").strip().lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted[:60]}"
    precedence = _header(msg, "precedence").strip().lower()
    if precedence in _AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("x-autoreply", "x-autorespond", "x-auto-response-suppress", "list-id"):
        if msg.get(name) is not None:
            return name
    return_path = _header(msg, "return-path").strip()
    if return_path in ("<>", "") and msg.get("return-path") is not None:
        return "Return-Path: <>"
    if envelope_from is not None and envelope_from.strip("<>") == "":
        return "empty envelope sender"
    local = (from_address or "").partition("@")[0].lower()
    if local in ("mailer-daemon", "postmaster"):
        return "From: MAILER-DAEMON"
    if msg.get_content_type() == "multipart/report":
        return "multipart/report"
    own = _message_ids(_header(msg, "message-id"))
    if own and own[0].rstrip(">").endswith("@" + domain.lower()):
        return "our own Message-ID"
    return None


def _decoded_text(part: Message) -> str:
    try:
        content = part.get_content() if isinstance(part, EmailMessage) else None
        if isinstance(content, str):
            return _clean(content)
    except (LookupError, KeyError, ValueError, AssertionError, UnicodeError):
        pass
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, "replace")
        except LookupError:
            return payload.decode("utf-8", "replace")
    raw = part.get_payload()
    return _clean(raw) if isinstance(raw, str) else ""


def _decoded_bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    if isinstance(raw, list) and raw:  # message/rfc822: the enclosed message as bytes
        inner = raw[0]
        if isinstance(inner, Message):
            try:
                return inner.as_bytes(policy=policy.SMTP)
            except (ValueError, UnicodeError, LookupError, TypeError, AttributeError):
                # A malformed enclosed message: what the generator could not write as it was.
                return inner.as_string(policy=policy.compat32).encode("utf-8", "replace")
    return b""


def _file_name(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except (ValueError, IndexError, TypeError, AttributeError, LookupError):
        name = None
    if name is None:
        raw = part.get_param("name", header="content-type")
        if isinstance(raw, tuple):
            name = _clean(raw[2])
        elif isinstance(raw, str):
            name = raw
    return _clean(name).strip() or None if name else None


def html_to_text(html: str) -> str:
    """Sanitised first (nothing active survives, scripts and styles are dropped with their
    content), then laid out as text."""
    safe = nh3.clean(html, clean_content_tags={"script", "style", "title", "head"})
    text = get_text(safe, ParserConfig(display_links=True, display_images=False))
    return "\n".join(line.rstrip() for line in text.splitlines()).strip()


def _split_reply(text: str) -> tuple[str, str | None]:
    """(new text, quoted history and signature) — the whole text when no quote is found."""
    text = text.strip()
    if not text:
        return "", None
    try:
        parsed = EmailReplyParser(languages=_REPLY_LANGUAGES).read(text=text)
        top = parsed.replies[0].body.strip() if parsed.replies else text
    except Exception:  # a third-party heuristic must never lose a mail: keep everything
        return text, None
    if not top or top == text:
        return text, None
    position = text.find(top)
    rest = text[position + len(top) :].strip() if position >= 0 else text
    return top, rest or None


def _dsn(msg: Message) -> tuple[list[DsnRecipient], list[str]]:
    recipients: list[DsnRecipient] = []
    ids: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            blocks = part.get_payload()
            if not isinstance(blocks, list):
                continue
            for block in blocks[1:] if len(blocks) > 1 else blocks:
                if not isinstance(block, Message):
                    continue
                final = _header(block, "final-recipient") or _header(block, "original-recipient")
                address = final.partition(";")[2].strip().strip("<>").lower()
                if not address:
                    continue
                recipients.append(
                    DsnRecipient(
                        address=address,
                        action=_header(block, "action").strip().lower(),
                        status=_header(block, "status").strip().split(" ")[0],
                        diagnostic=_header(block, "diagnostic-code").strip()[:500],
                    )
                )
        elif ctype in ("text/rfc822-headers", "message/rfc822", "message/rfc822-headers"):
            content = _decoded_bytes(part).decode("utf-8", "replace")
            for line in re.findall(r"(?im)^message-id:\s*(<[^>]+>)", content):
                ids.append(line.lower())
    return recipients, ids


def _leaves(msg: Message) -> list[Message]:
    """The parts that carry content, in order; an enclosed message (a forward, message/rfc822)
    is one part, not opened (its text is not the sender's, it becomes an .eml file)."""
    found: list[Message] = []
    stack = [msg]
    while stack:
        part = stack.pop()
        if part.get_content_type() == "message/rfc822" and part is not msg:
            found.append(part)
        elif part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(reversed([p for p in payload if isinstance(p, Message)]))
        else:
            found.append(part)
    return found


def parse(raw: bytes, *, envelope_from: str | None = None, our_domain: str) -> ParsedMail:
    msg: Message = BytesParser(policy=policy.default).parsebytes(raw)
    problems = [type(d).__name__ for d in getattr(msg, "defects", [])]
    from_name, from_address = "", None
    try:
        for_name, address = parseaddr(_header(msg, "from"))
        if address and "@" in address:
            from_address = address.strip().lower()
            from_name = for_name.strip()
    except (ValueError, IndexError):
        problems.append("unreadable From")
    if from_address is not None:
        try:
            Address(addr_spec=from_address)
        except (ValueError, IndexError):
            problems.append("invalid From address")
            from_address = None
    subject = " ".join(_header(msg, "subject").split())[:998]
    message_ids = _message_ids(_header(msg, "message-id"))
    reason = _automatic(msg, envelope_from, from_address, our_domain)

    text_part: Message | None = None
    html_part: Message | None = None
    attachments: list[Attachment] = []
    for part in _leaves(msg):
        ctype = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        name = _file_name(part)
        is_body_text = ctype in ("text/plain", "text/html") and disposition != "attachment"
        if is_body_text and name is None:
            if ctype == "text/plain" and text_part is None:
                text_part = part
                continue
            if ctype == "text/html" and html_part is None:
                html_part = part
                continue
        if ctype in ("message/delivery-status", "text/rfc822-headers"):
            continue
        try:
            data = _decoded_bytes(part)
        except Exception as exc:  # one part that cannot be read is left out, never the mail
            problems.append(f"unreadable {ctype} part: {type(exc).__name__}")
            continue
        if not data:
            continue
        if name is None and ctype == "message/rfc822":
            # A forwarded message: named after its subject.
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            inner_subject = _header(first, "subject") if isinstance(first, Message) else ""
            name = f"{' '.join(inner_subject.split())[:150] or 'forwarded message'}.eml"
        inline = disposition == "inline" or part.get("content-id") is not None
        attachments.append(Attachment(name, ctype, data, inline))

    full = ""
    try:
        if text_part is not None:
            full = _decoded_text(text_part)
        elif html_part is not None:
            full = html_to_text(_decoded_text(html_part))
        elif not msg.is_multipart() and msg.get_content_maintype() == "text":
            full = _decoded_text(msg)
    except Exception as exc:  # the text cannot be read: the mail still counts (.eml kept)
        problems.append(f"unreadable text: {type(exc).__name__}")
    # NUL bytes can be neither stored (PostgreSQL text) nor shown: gone, like every control
    # character a mail body has no business carrying.
    full = full.replace("\r\n", "\n").replace("\x00", "")[:MAX_TEXT_CHARS]
    text, quoted = _split_reply(full)
    dsn, dsn_ids = _dsn(msg) if msg.get_content_type() == "multipart/report" else ([], [])
    return ParsedMail(
        from_address=from_address,
        from_name=from_name[:200],
        subject=subject,
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=_message_ids(_header(msg, "in-reply-to")),
        references=_message_ids(_header(msg, "references")),
        recipient_addresses=_addresses(msg, "to", "cc", "delivered-to", "x-original-to"),
        automatic=reason is not None,
        automatic_reason=reason,
        text=text,
        quoted=quoted,
        attachments=attachments,
        dsn=dsn,
        dsn_message_ids=dsn_ids,
        problems=problems,
    )


def describe(parsed: ParsedMail) -> dict[str, Any]:
    """A short, log-safe description (no body text)."""
    return {
        "from": parsed.from_address,
        "automatic": parsed.automatic_reason,
        "attachments": len(parsed.attachments),
        "problems": parsed.problems[:5],
    }
