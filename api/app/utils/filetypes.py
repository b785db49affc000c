"""Decide an upload's type from its first bytes against an allow-list.

The declared Content-Type and the file name are attacker-controlled, so they can only make a
decision stricter (a file that claims to be an image must really be one), never looser. Anything a
browser could execute or render as a document (HTML, SVG, XML, scripts, native executables) is
refused even where plain text would otherwise be accepted, and images or PDFs carrying markup
(polyglots) are refused too. Archives are recognised by their member names only; nothing is ever
extracted.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import zipfile
from collections.abc import Callable

SNIFF_BYTES = 8192

PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
PDF = "application/pdf"
ZIP = "application/zip"
TEXT = "text/plain"
CSV = "text/csv"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"

IMAGE_TYPES = frozenset({PNG, JPEG, GIF, WEBP})
IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".svg", ".ico", ".tif", ".tiff"}
)

_OLE2_BY_EXTENSION = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".msg": "application/vnd.ms-outlook",
}
_OOXML_BY_FOLDER = {"word/": DOCX, "xl/": XLSX, "ppt/": PPTX}
_ODF_BY_EXTENSION = {".odt": ODT, ".ods": ODS, ".odp": ODP}

_EXECUTABLE_MAGIC = (
    b"\x7fELF",
    b"MZ",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")

_IMAGE_MARKUP = (b"<html", b"<script", b"<svg", b"<iframe", b"<body")
_ACTIVE_ANYWHERE = ("<svg", "<script", "<html", "<iframe")
# WHATWG MIME sniffing "identifying a resource with an unknown MIME type": these tags, followed by
# a tag-terminating character, make a browser render the resource as HTML.
_HTML_SNIFF_TAGS = re.compile(
    r"<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p)"
    r"(?:[\s>/]|$)"
    r"|<!--|<\?xml",
)
_LEADING_BLANKS = re.compile(r"^[\s\ufeff\u200b]+")
_TEXT_WHITESPACE = frozenset("\t\r\n\f")
# At most one control character in this many characters still counts as text (ANSI colour escapes
# in console logs, stray BEL bytes); more than that is binary data that happens to be valid UTF-8.
_CONTROL_CHAR_RATIO = 10


class RefusedType(Exception):
    """The content is not on the allow-list; ``reason`` is safe to show to the uploader."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_image(mime: str) -> bool:
    """Whether a stored type is one of the allowed raster images (safe to preview inline)."""
    return mime in IMAGE_TYPES


def _extension(file_name: str) -> str:
    last = re.split(r"[/\\]", file_name)[-1].strip().lower()
    dot = last.rfind(".")
    return last[dot:] if dot > 0 else ""


def _image_type(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    return None


def _zip_type(extension: str, zip_names: Callable[[], list[str]] | None) -> str:
    if zip_names is None:
        return ZIP
    try:
        names = zip_names()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise RefusedType("The archive is damaged.") from exc
    if "[Content_Types].xml" in names:
        for folder, mime in _OOXML_BY_FOLDER.items():
            if any(name.startswith(folder) for name in names):
                return mime
    if "mimetype" in names and extension in _ODF_BY_EXTENSION:
        return _ODF_BY_EXTENSION[extension]
    return ZIP


def _decode_text(head: bytes) -> str | None:
    """The head as text, or None when it is not UTF-8 text.

    A head of exactly SNIFF_BYTES may end inside a multi-byte character that continues in the rest
    of the file; a shorter head is the whole file and must decode completely.
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        text = decoder.decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError:
        return None
    if "\x00" in text:
        return None
    controls = sum(
        1 for ch in text if ch not in _TEXT_WHITESPACE and unicodedata.category(ch) == "Cc"
    )
    if controls * _CONTROL_CHAR_RATIO > len(text):
        return None
    return text


def _is_active_content(text: str) -> bool:
    lowered = text.lower()
    start = _LEADING_BLANKS.sub("", lowered)
    if start.startswith("#!") or _HTML_SNIFF_TAGS.match(start):
        return True
    return any(marker in lowered for marker in _ACTIVE_ANYWHERE)


def _carries_markup(head: bytes) -> bool:
    lowered = head.lower()
    return any(marker in lowered for marker in _IMAGE_MARKUP)


def _classify(head: bytes, extension: str, zip_names: Callable[[], list[str]] | None) -> str:
    if head.startswith(_EXECUTABLE_MAGIC):
        raise RefusedType("Executable files are not allowed.")
    image = _image_type(head)
    if image is not None:
        if _carries_markup(head):
            raise RefusedType("The image contains embedded markup.")
        return image
    if head.startswith(b"%PDF-"):
        # PDF viewers and old browsers sniff past the header: a PDF whose first bytes carry an
        # HTML document is a polyglot, like an image carrying markup.
        if _carries_markup(head):
            raise RefusedType("The document contains embedded markup.")
        return PDF
    if head.startswith(_OLE2_MAGIC):
        if extension in _OLE2_BY_EXTENSION:
            return _OLE2_BY_EXTENSION[extension]
        raise RefusedType("This type of file is not allowed.")
    if head.startswith(_ZIP_MAGIC):
        return _zip_type(extension, zip_names)
    text = _decode_text(head)
    if text is None:
        raise RefusedType("This type of file is not allowed.")
    if _is_active_content(text):
        raise RefusedType("HTML, SVG, XML and script files are not allowed.")
    return CSV if extension == ".csv" else TEXT


def sniff(
    head: bytes,
    *,
    file_name: str,
    declared_type: str | None,
    zip_names: Callable[[], list[str]] | None = None,
) -> str:
    """The MIME type to store for content starting with ``head``, or raise RefusedType.

    ``zip_names`` lists the members of the complete file and is only called for zip archives.
    """
    extension = _extension(file_name)
    mime = _classify(head, extension, zip_names)
    claims_image = (declared_type or "").strip().lower().startswith("image/") or (
        extension in IMAGE_EXTENSIONS
    )
    if claims_image and not is_image(mime):
        raise RefusedType("The file is not a valid image.")
    return mime
