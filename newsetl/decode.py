"""Bytes to text for raw news files: detect the encoding strictly, never guess into mojibake.

Korean news arrives as UTF-8 (with or without BOM), UTF-16 and CP949/EUC-KR. Every step here
decodes strictly; when none succeeds the caller gets a DecodeError naming why and where.
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata

__all__ = ["DecodeError", "decode_bytes", "normalize_text", "sniff_utf16"]


class DecodeError(ValueError):
    """The bytes are not text in any encoding we accept; the message is one line."""


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Names pages declare for Korean text. CP949 is a superset of EUC-KR (KS X 1001), so a strict
# CP949 decode accepts everything a correct EUC-KR page holds.
_KOREAN_CHARSETS = {
    "euc-kr",
    "euckr",
    "euc_kr",
    "cp949",
    "ms949",
    "uhc",
    "windows-949",
    "x-windows-949",
    "ks_c_5601-1987",
    "ks_c_5601",
    "ksc5601",
    "ksc_5601",
    "korean",
    "iso-ir-149",
    "csksc56011987",
    "x-euc-kr",
}
_UTF8_NAMES = {"utf-8", "utf8", "utf_8", "unicode-1-1-utf-8", "x-unicode20utf8"}

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
# C0 controls other than tab, LF, VT, FF, CR: they do not occur in text and betray a wrong guess.
_BAD_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# Private-use and unassigned-looking code points a mis-decode tends to produce.
_SUSPECT = re.compile(r"[\ue000-\uf8ff\ufffd]")


def normalize_text(text: str) -> str:
    """NFC and LF line ends: the form every text leaving this module has."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def sniff_utf16(data: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when the NUL bytes sit on one parity as UTF-16 text puts them.

    Spaces, digits and punctuation carry a NUL byte in UTF-16 and most Hangul syllables do not, so
    Korean text shows NULs in a good share of its code units, nearly all at odd offsets (LE) or
    even (BE); the few syllables like 가 (U+AC00) put theirs on the other side. Binary data
    spreads its NULs over both.
    """
    if len(data) < 4 or len(data) % 2:
        return None
    sample = data[:65536]
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    units = len(sample) // 2
    if even + odd < max(2, units // 50):
        return None
    if odd >= 0.8 * (even + odd):
        return "utf-16-le"
    if even >= 0.8 * (even + odd):
        return "utf-16-be"
    return None


def _offset_of_error(data: bytes, encoding: str) -> str:
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        return f"byte {exc.start} (0x{data[exc.start : exc.start + 4].hex(' ')})"
    return "?"


def _check(text: str, encoding: str) -> str:
    """The decoded text, or DecodeError when it holds what no real text holds."""
    bad = _BAD_CONTROLS.search(text)
    if bad:
        raise DecodeError(
            f"decodes as {encoding} but holds control character "
            f"U+{ord(bad.group()):04X} at char {bad.start()}"
        )
    fffd = text.find("\ufffd")
    if fffd >= 0:
        raise DecodeError(f"holds U+FFFD replacement characters (damaged before it got here) at char {fffd}")
    return text


@functools.cache
def _ksx1001_hangul() -> frozenset[str]:
    """The 2,350 Hangul syllables of KS X 1001 (EUC-KR proper): nearly all that Korean text uses."""
    return frozenset(
        bytes((lead, trail)).decode("cp949") for lead in range(0xB0, 0xC9) for trail in range(0xA1, 0xFF)
    )


def _looks_korean(text: str) -> bool:
    """True when a CP949 decode reads as Korean, not as GBK/Big5/Shift-JIS bytes misread.

    Misread bytes land on Hanja and on the rare syllables of CP949's extension area; real Korean
    text is mostly Hangul, and its syllables are almost all in KS X 1001.
    """
    non_ascii = [c for c in text if ord(c) > 0x7F]
    if not non_ascii:
        return True
    hangul = [c for c in non_ascii if "\uac00" <= c <= "\ud7a3"]
    if len(hangul) < 0.5 * len(non_ascii) or _SUSPECT.search(text):
        return False
    common = _ksx1001_hangul()
    return sum(1 for c in hangul if c in common) >= 0.8 * len(hangul)


def _canonical(declared: str | None) -> str | None:
    if not declared:
        return None
    name = declared.strip().strip("\"'").lower()
    if name in _KOREAN_CHARSETS:
        return "cp949"
    if name in _UTF8_NAMES:
        return "utf-8"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Text and encoding name ('utf-8', 'utf-8-sig', 'utf-16-le', 'utf-16-be', 'cp949') of bytes.

    BOMs first; then strict UTF-8; then UTF-16 without BOM if the NUL pattern says so; then the
    declared charset (HTML meta) or CP949 (covers EUC-KR) strictly. Raises DecodeError with a
    one-line reason when nothing decodes cleanly. Never returns text with U+FFFD or mojibake.
    Output is NFC-normalized, CRLF/CR -> LF.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            codec = "utf-8" if encoding == "utf-8-sig" else encoding
            try:
                text = body.decode(codec)
            except UnicodeDecodeError:
                where = _offset_of_error(body, codec)
                raise DecodeError(f"starts with a {encoding} BOM but is not {codec} at {where}") from None
            return normalize_text(_check(text, encoding)), encoding

    has_nul = b"\x00" in data
    if not has_nul:
        try:
            return normalize_text(_check(data.decode("utf-8"), "utf-8")), "utf-8"
        except UnicodeDecodeError:
            pass
    else:
        utf16 = sniff_utf16(data)
        if utf16 is None:
            raise DecodeError(f"holds NUL bytes (first at byte {data.index(0)}) and is not UTF-16 text")
        try:
            return normalize_text(_check(data.decode(utf16), utf16)), utf16
        except UnicodeDecodeError:
            where = _offset_of_error(data, utf16)
            raise DecodeError(f"NUL pattern says {utf16} but it does not decode at {where}") from None

    # Korean first even against another declared charset: EUC-KR pages mislabelled as
    # ISO-8859-1 are common, and a latin-1 decode of them always "succeeds".
    reasons = [f"UTF-8 fails at {_offset_of_error(data, 'utf-8')}"]
    try:
        text = data.decode("cp949")
    except UnicodeDecodeError:
        reasons.append(f"CP949 fails at {_offset_of_error(data, 'cp949')}")
    else:
        if _looks_korean(text):
            return normalize_text(_check(text, "cp949")), "cp949"
        reasons.append("CP949 decodes but does not read as Korean (mostly Hanja or rare syllables)")
    wanted = _canonical(declared)
    if wanted and wanted not in ("utf-8", "cp949"):
        try:
            return normalize_text(_check(data.decode(wanted), wanted)), wanted
        except UnicodeDecodeError:
            reasons.append(f"declared {wanted} fails at {_offset_of_error(data, wanted)}")
    raise DecodeError("not valid text: " + "; ".join(reasons))
