"""Upload type sniffing: a corpus of real minimal files is accepted with the right type, and
active content, executables, polyglots and lying images are refused whatever they claim to be."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable

import pytest

from app.utils.filetypes import SNIFF_BYTES, RefusedType, is_image, sniff

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="x"/>'


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def make_png() -> bytes:
    """A valid 1x1 RGB PNG."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


PNG = make_png()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
JPEG += b"\xff\xd9"
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
WEBP_BODY = b"WEBPVP8L" + struct.pack("<I", 10) + b"\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88"
WEBP = b"RIFF" + struct.pack("<I", len(WEBP_BODY)) + WEBP_BODY
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            compression = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=compression)
    return buffer.getvalue()


def names_in(data: bytes) -> Callable[[], list[str]]:
    def read() -> list[str]:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()

    return read


def detect(data: bytes, file_name: str, declared_type: str | None = None) -> str:
    return sniff(
        data[:SNIFF_BYTES],
        file_name=file_name,
        declared_type=declared_type,
        zip_names=names_in(data),
    )


DOCX_FILE = make_zip(
    {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": b"<Relationships/>",
        "word/document.xml": b"<w:document/>",
    }
)
XLSX_FILE = make_zip({"[Content_Types].xml": CONTENT_TYPES, "xl/workbook.xml": b"<workbook/>"})
PPTX_FILE = make_zip(
    {"[Content_Types].xml": CONTENT_TYPES, "ppt/presentation.xml": b"<presentation/>"}
)
ODT_FILE = make_zip({"mimetype": ODT.encode(), "content.xml": b"<office:document-content/>"})
ODS_FILE = make_zip({"mimetype": ODS.encode(), "content.xml": b"<office:document-content/>"})
PLAIN_ZIP = make_zip({"notes.txt": b"hello", "logs/app.log": b"line"})


class TestAccepted:
    @pytest.mark.parametrize(
        ("data", "file_name", "declared", "expected"),
        [
            (PNG, "pixel.png", "image/png", "image/png"),
            (JPEG, "photo.jpeg", "image/jpeg", "image/jpeg"),
            (GIF, "anim.gif", "image/gif", "image/gif"),
            (WEBP, "pic.webp", "image/webp", "image/webp"),
            (PDF, "invoice.pdf", "application/pdf", "application/pdf"),
            (DOCX_FILE, "letter.docx", "application/octet-stream", DOCX),
            (XLSX_FILE, "sheet.xlsx", None, XLSX),
            (PPTX_FILE, "deck.pptx", None, PPTX),
            (ODT_FILE, "letter.odt", None, ODT),
            (ODS_FILE, "sheet.ods", None, ODS),
            (PLAIN_ZIP, "bundle.zip", "application/zip", "application/zip"),
            (OLE2_MAGIC + b"\x00" * 504, "old.doc", None, "application/msword"),
            (OLE2_MAGIC + b"\x00" * 504, "OLD.XLS", None, "application/vnd.ms-excel"),
            (OLE2_MAGIC + b"\x00" * 504, "mail.msg", None, "application/vnd.ms-outlook"),
            ("\ufeffHello, wörld\r\n".encode(), "notes.txt", "text/plain", "text/plain"),
            (b"id,name\r\n1,caf\xc3\xa9\r\n", "export.csv", "text/csv", "text/csv"),
            (b"2024-01-01 INFO \x1b[32mstarted\x1b[0m\n" * 20, "app.log", None, "text/plain"),
            (b"if a < b and c > d:\n    pass\n", "snippet.py", "text/x-python", "text/plain"),
            (b"<admin> the <b> tag was fine\n", "chat.txt", None, "text/plain"),
        ],
        ids=lambda value: value if isinstance(value, str) else None,
    )
    def test_type_comes_from_the_content(
        self, data: bytes, file_name: str, declared: str | None, expected: str
    ) -> None:
        assert detect(data, file_name, declared) == expected

    def test_declared_type_and_extension_do_not_change_the_sniffed_type(self) -> None:
        assert detect(PNG, "readme.txt", "text/plain") == "image/png"
        assert detect(PDF, "data.csv", "text/csv") == "application/pdf"

    def test_opendocument_with_another_extension_is_a_plain_zip(self) -> None:
        assert detect(ODT_FILE, "letter.zip") == "application/zip"

    def test_zip_without_member_reader_is_a_plain_zip(self) -> None:
        assert sniff(DOCX_FILE, file_name="a.docx", declared_type=None) == "application/zip"

    def test_member_reader_is_not_called_for_other_types(self) -> None:
        def explode() -> list[str]:
            raise AssertionError("zip_names called for a non-zip")

        assert sniff(PNG, file_name="a.png", declared_type=None, zip_names=explode) == "image/png"

    def test_multibyte_character_cut_at_the_end_of_the_head_is_text(self) -> None:
        content = b"a" + "é".encode() * SNIFF_BYTES
        head = content[:SNIFF_BYTES]
        assert head.endswith(b"\xc3")
        assert sniff(head, file_name="a.txt", declared_type=None) == "text/plain"

    def test_is_image(self) -> None:
        assert is_image("image/png")
        assert is_image("image/webp")
        assert not is_image("image/svg+xml")
        assert not is_image("application/pdf")


SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
)


class TestRefused:
    @pytest.mark.parametrize(
        ("data", "file_name", "declared"),
        [
            pytest.param(b"<!DOCTYPE html><p>hi</p>", "page.txt", "text/plain", id="doctype"),
            pytest.param(b"<html><body>hi</body></html>", "a.txt", None, id="html-no-doctype"),
            pytest.param(b"<HTML><BODY>HI</BODY></HTML>", "a.txt", None, id="uppercase"),
            pytest.param(b" \r\n\t <html>", "a.txt", None, id="leading-whitespace"),
            pytest.param(b"\xef\xbb\xbf<html>", "a.txt", None, id="bom-before-html"),
            pytest.param(b"\xef\xbb\xbf  \n<DiV class=x>", "a.txt", None, id="bom-div"),
            pytest.param(b"<p>para</p>", "a.txt", None, id="p-tag"),
            pytest.param(b"<a href='javascript:x'>", "a.txt", None, id="a-tag"),
            pytest.param(b"<!-- note -->", "a.txt", None, id="comment"),
            pytest.param(b"<b>", "a.txt", None, id="bare-b-tag"),
            pytest.param(SVG_WITH_SCRIPT, "logo.txt", "text/plain", id="svg-with-script"),
            pytest.param(b"notes\n\n<svg onload=alert(1)>", "a.txt", None, id="svg-later"),
            pytest.param(b"hello <ScRiPt>alert(1)</script>", "a.log", None, id="script-later"),
            pytest.param(b"text <iframe src=x>", "a.csv", "text/csv", id="iframe-later"),
            pytest.param(b'<?xml version="1.0"?><root/>', "data.xml", None, id="xml"),
            pytest.param(b"#!/bin/sh\nrm -rf /\n", "backup.txt", None, id="shebang"),
            pytest.param(
                b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "report.pdf", "application/pdf", id="elf"
            ),
            pytest.param(b"MZ\x90\x00\x03" + b"\x00" * 64, "setup.exe", None, id="pe"),
            pytest.param(b"\xcf\xfa\xed\xfe" + b"\x00" * 64, "tool", None, id="mach-o"),
            pytest.param(b"\xca\xfe\xba\xbe" + b"\x00" * 64, "fat.bin", None, id="mach-o-fat"),
            pytest.param(PNG + b"<html><script>alert(1)</script>", "x.png", None, id="polyglot"),
            pytest.param(b"GIF89a<script>alert(1)</script>", "x.gif", None, id="gif-script"),
            pytest.param(JPEG[:20] + b"<BODY onload=x>", "x.jpg", None, id="jpeg-body"),
            pytest.param(b"just text", "pixel.png", "image/png", id="text-declared-png"),
            pytest.param(b"just text", "photo.jpg", None, id="text-named-jpg"),
            pytest.param(b"just text", "photo", "IMAGE/JPEG", id="text-declared-image-upper"),
            pytest.param(PDF, "scan.png", "application/pdf", id="pdf-named-png"),
            pytest.param(PLAIN_ZIP, "photo.gif", None, id="zip-named-gif"),
            pytest.param(b"BM" + b"\x00" * 64, "pic.bmp", "image/bmp", id="bmp"),
            pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "logo.svg", None, id="svg"),
            pytest.param(b"\x00\x01\x02garbage\x00\xff\xfe", "data.bin", None, id="nul-garbage"),
            pytest.param(b"\x01\x02\x03\x04abc\x05\x06", "data.txt", None, id="control-chars"),
            pytest.param(b"caf\xc3", "short.txt", None, id="truncated-whole-file"),
            pytest.param(b"\xff\xfeh\x00i\x00", "utf16.txt", None, id="utf-16"),
            pytest.param(OLE2_MAGIC + b"\x00" * 504, "x.exe", None, id="ole2-exe"),
            pytest.param(b"PK\x03\x04broken archive", "a.zip", None, id="corrupt-zip"),
        ],
    )
    def test_refused(self, data: bytes, file_name: str, declared: str | None) -> None:
        with pytest.raises(RefusedType) as refused:
            detect(data, file_name, declared)
        assert refused.value.reason

    def test_reason_never_echoes_the_content(self) -> None:
        marker = "UNIQUE-MARKER-1234"
        for data in (
            f"<html>{marker}".encode(),
            b"\x7fELF" + marker.encode(),
            b"GIF89a<script>" + marker.encode(),
        ):
            with pytest.raises(RefusedType) as refused:
                detect(data, f"{marker}.txt", marker)
            assert marker not in refused.value.reason
            assert marker not in str(refused.value)

    def test_zip_reader_failure_is_a_refusal(self) -> None:
        def broken() -> list[str]:
            raise zipfile.BadZipFile("truncated")

        with pytest.raises(RefusedType):
            sniff(
                b"PK\x03\x04" + b"\x00" * 30,
                file_name="a.docx",
                declared_type=None,
                zip_names=broken,
            )
