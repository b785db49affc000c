"""Display-name sanitising and the download header built from it."""

from __future__ import annotations

import unicodedata
from email.parser import HeaderParser
from urllib.parse import unquote

import pytest

from app.utils.filenames import content_disposition, sanitize_filename


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


class TestSanitizeFilename:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("../../etc/passwd", "passwd"),
            ("..\\..\\boot.ini", "boot.ini"),
            ("C:\\Users\\me\\Desktop\\report.pdf", "report.pdf"),
            ("/home/u/./../x.txt", "x.txt"),
            ("inv\x00oice.pdf", "invoice.pdf"),
            ("a\r\nb.txt", "ab.txt"),
            ("zero\u200bwidth\ufeff.txt", "zerowidth.txt"),
            ("tab\tand   spaces\u00a0\u2003here.txt", "taband spaces here.txt"),
            ("  ..report.pdf. . ", "report.pdf"),
            ('a<b>c:d"e|f?g*h.txt', "a_b_c_d_e_f_g_h.txt"),
            ("Re\u0301sume\u0301.pdf", "Résumé.pdf"),
            ("报告 2024.xlsx", "报告 2024.xlsx"),
        ],
    )
    def test_cleans(self, raw: str, expected: str) -> None:
        assert sanitize_filename(raw) == expected

    def test_result_is_nfc(self) -> None:
        name = sanitize_filename("e\u0301.txt")
        assert name == unicodedata.normalize("NFC", name)
        assert name == "\u00e9.txt"

    def test_rtlo_and_other_format_characters_are_removed(self) -> None:
        name = sanitize_filename("invoice\u202efdp.exe")
        assert "\u202e" not in name
        assert name == "invoicefdp.exe"
        for char in ("\u202a", "\u202d", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c"):
            assert sanitize_filename(f"a{char}b.txt") == "ab.txt"

    def test_surrogates_private_use_and_unassigned_are_removed(self) -> None:
        name = sanitize_filename("a\udc80b\ue000c\U000e0001\U0010fffd.txt")
        assert name == "abc.txt"

    @pytest.mark.parametrize(
        "raw", [None, "", ".", "..", "   ", "...", " . . ", "dir/", "\x00\u202e"]
    )
    def test_nothing_left_uses_the_fallback(self, raw: str | None) -> None:
        assert sanitize_filename(raw) == "attachment"
        assert sanitize_filename(raw, fallback="file.bin") == "file.bin"

    def test_long_name_keeps_its_extension(self) -> None:
        name = sanitize_filename("a" * 300 + ".pdf")
        assert utf8_len(name) == 255
        assert name == "a" * 251 + ".pdf"

    @pytest.mark.parametrize("unit", ["😀", "报", "é"])
    def test_multibyte_name_is_cut_on_a_character_boundary(self, unit: str) -> None:
        raw = "x" + unit * 300 + ".docx"
        name = sanitize_filename(raw)
        assert utf8_len(name) <= 255
        assert utf8_len(name) > 255 - utf8_len(unit)
        assert name.endswith(".docx")
        assert name[1:-5] == unit * (len(name) - 6)

    def test_unreasonable_extension_is_not_preserved(self) -> None:
        raw = "a" * 200 + "." + "b" * 100
        name = sanitize_filename(raw)
        assert utf8_len(name) == 255
        assert name == raw[:255]

    def test_truncation_does_not_leave_a_trailing_dot_or_space(self) -> None:
        name = sanitize_filename("a" * 250 + " " + "b" * 100 + ".pdf")
        assert name == "a" * 250 + ".pdf"


class TestContentDisposition:
    HOSTILE = 'a"b\r\nX-Injected: 1.txt'

    def test_no_header_injection(self) -> None:
        value = content_disposition(self.HOSTILE)
        assert not {"\r", "\n", "\x00"} & set(value)
        headers = HeaderParser().parsestr(f"Content-Disposition: {value}\r\n\r\n")
        assert headers.keys() == ["Content-Disposition"]
        assert headers["X-Injected"] is None

    def test_round_trips_the_exact_name(self) -> None:
        for name in (self.HOSTILE, "Résumé 报告 😀.pdf", "100% done; ok.txt", "plain.txt"):
            value = content_disposition(name)
            encoded = value.split("filename*=UTF-8''", 1)[1]
            assert ";" not in encoded and " " not in encoded
            assert unquote(encoded, encoding="utf-8", errors="strict") == name

    def test_ascii_fallback(self) -> None:
        value = content_disposition('Ré"s\\u\x00mé.pdf')
        assert value.startswith("attachment; filename=\"R__s_u_m_.pdf\"; filename*=UTF-8''")
        assert value.isascii()
        fallback = value.split('filename="', 1)[1].split('"', 1)[0]
        assert fallback == "R__s_u_m_.pdf"
