"""decode_bytes: BOMs, strict UTF-8, UTF-16 by NUL pattern, declared charset, CP949, and refusals."""

from __future__ import annotations

import unicodedata

import pytest

from newsetl.decode import DecodeError, decode_bytes, sniff_utf16

KO = '한국과 미국이 29일 반도체 공급망 협력 양해각서(MOU)를 체결했다.\n산업부 관계자는 "환영"한다고 밝혔다.'


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (KO.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + KO.encode("utf-8"), "utf-8-sig"),
        (b"\xff\xfe" + KO.encode("utf-16-le"), "utf-16-le"),
        (b"\xfe\xff" + KO.encode("utf-16-be"), "utf-16-be"),
        (KO.encode("utf-16-le"), "utf-16-le"),
        (KO.encode("utf-16-be"), "utf-16-be"),
        (KO.encode("cp949"), "cp949"),
    ],
)
def test_encodings_round_trip(data, encoding):
    assert decode_bytes(data) == (KO, encoding)


def test_bom_is_not_part_of_the_text():
    text, _ = decode_bytes(b"\xef\xbb\xbf" + "가".encode())
    assert text == "가"


def test_declared_euc_kr_is_read_as_cp949():
    assert decode_bytes(KO.encode("euc-kr"), "EUC-KR") == (KO, "cp949")
    assert decode_bytes(KO.encode("cp949"), "ks_c_5601-1987") == (KO, "cp949")


def test_korean_wins_over_a_wrong_single_byte_declaration():
    # EUC-KR pages labelled ISO-8859-1 decode "fine" as latin-1, into mojibake.
    assert decode_bytes(KO.encode("cp949"), "iso-8859-1") == (KO, "cp949")


def test_declared_single_byte_charset_used_when_text_is_not_korean():
    text = "Ça coûte très cher, élève"
    assert decode_bytes(text.encode("latin-1"), "ISO-8859-1") == (text, "iso8859-1")


def test_utf8_wins_over_a_declared_charset():
    assert decode_bytes(KO.encode("utf-8"), "euc-kr") == (KO, "utf-8")


def test_nfc_and_line_ends():
    nfd = unicodedata.normalize("NFD", "한국\r\n미국\r일본\n")
    text, encoding = decode_bytes(nfd.encode("utf-8"))
    assert (text, encoding) == ("한국\n미국\n일본\n", "utf-8")
    assert unicodedata.is_normalized("NFC", text)


def test_invalid_in_every_encoding_raises_one_line():
    data = KO.encode("utf-8") + b"\xff\xfe\xed\xa0\x80\xc3\x28" + KO.encode("utf-8")
    with pytest.raises(DecodeError) as err:
        decode_bytes(data)
    message = str(err.value)
    assert "\n" not in message
    assert f"byte {len(KO.encode('utf-8'))}" in message


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("中文测试文本，北京市", "gbk"),
        ("日本語のテキストです", "shift_jis"),
        ("中文測試文本，台北市政府", "big5"),
    ],
)
def test_other_cjk_encodings_are_refused_not_misread(text, codec):
    with pytest.raises(DecodeError):
        decode_bytes(text.encode(codec))


def test_replacement_character_is_refused():
    with pytest.raises(DecodeError, match="U\\+FFFD"):
        decode_bytes("기사 \ufffd 본문".encode())


def test_nul_bytes_that_are_not_utf16_are_refused():
    with pytest.raises(DecodeError, match="NUL"):
        decode_bytes(b"abc\x00\x00\x00\x01\x02junk\x00")


def test_control_characters_are_refused():
    with pytest.raises(DecodeError, match="control character"):
        decode_bytes(b"text \x01\x02\x03 more")


def test_utf16_with_bom_and_lone_surrogate_is_refused():
    with pytest.raises(DecodeError, match="utf-16-le BOM"):
        decode_bytes(b"\xff\xfe" + "가".encode("utf-16-le") + b"\x00\xd8")


def test_sniff_utf16():
    assert sniff_utf16("abc 가나다 123".encode("utf-16-le")) == "utf-16-le"
    assert sniff_utf16("abc 가나다 123".encode("utf-16-be")) == "utf-16-be"
    assert sniff_utf16(KO.encode("utf-8")) is None
    assert sniff_utf16(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01") is None
