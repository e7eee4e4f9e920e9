"""Build seeds/reference/countries.csv from babel (Korean short names) and pycountry (ISO codes).

babel's Korean territory names are the short forms Korean news uses (미국, 중국, 북한, 러시아,
대만); pycountry gives ISO codes and English names. Neither has 한국, hanja, the one-syllable
compound forms (한·미·일) nor common variants (사우디, 남아공), so a small hand table sits on
top. Output is sorted by iso2 and byte-identical between runs.

    uv run python scripts/build_countries.py [--out seeds/reference/countries.csv]
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

HEADER = ("entity_id", "name", "name_en", "entity_type", "wikidata_id", "aliases", "iso2", "iso3", "abbrev")
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "seeds" / "reference" / "countries.csv"

# Territories babel names that are not in pycountry but are countries in the news.
EXTRA = {"XK": ("XKX", "Kosovo")}

# Canonical Korean names where babel's differs from what Korean news writes.
NAME_KO = {
    "AG": "앤티가바부다",
    "AQ": "남극",
    "AU": "호주",
    "BA": "보스니아헤르체고비나",
    "CD": "콩고민주공화국",
    "CF": "중앙아프리카공화국",
    "CG": "콩고공화국",
    "DM": "도미니카연방",
    "DO": "도미니카공화국",
    "GQ": "적도기니",
    "HK": "홍콩",
    "KN": "세인트키츠네비스",
    "KR": "한국",
    "MH": "마셜제도",
    "MO": "마카오",
    "PS": "팔레스타인",
    "SB": "솔로몬제도",
    "ST": "상투메프린시페",
    "TT": "트리니다드토바고",
    "VA": "바티칸",
    "ZA": "남아프리카공화국",
}

# babel names that would name another country in the news: not kept as aliases.
BABEL_NOT_ALIAS = {"DM"}  # 도미니카 alone is the Dominican Republic (DO)

# English names where pycountry's ISO name is not the common one.
NAME_EN = {
    "BN": "Brunei",
    "BQ": "Caribbean Netherlands",
    "CD": "Democratic Republic of the Congo",
    "CG": "Republic of the Congo",
    "FK": "Falkland Islands",
    "MF": "Saint Martin",
    "PS": "Palestine",
    "RU": "Russia",
    "SH": "Saint Helena",
    "SX": "Sint Maarten",
    "VA": "Vatican City",
    "VG": "British Virgin Islands",
    "VI": "United States Virgin Islands",
}

# Other surface forms: hanja (one-syllable headline forms and full), Korean variants, acronyms.
# Deliberately absent: bare 조선 for KP (in economic news it is shipbuilding, 조선업, 조선일보),
# 양안, 대중 (對中 is handled by the extractor's compound rules, not as an alias).
ALIASES = {
    "AE": ("UAE", "아랍에미리트연합"),
    "AQ": ("남극대륙",),
    "AU": ("濠", "豪", "오스트레일리아"),
    "BA": ("보스니아",),
    "CA": ("加",),
    "CD": ("민주콩고", "DRC", "콩고"),
    "CF": ("중앙아프리카",),
    "CN": ("中", "中國", "중화인민공화국"),
    "CZ": ("체코공화국",),
    "DE": ("獨", "独"),
    "DO": ("도미니카",),
    "DM": ("도미니카 연방",),
    "ES": ("에스파냐",),
    "FR": ("佛", "仏"),
    "GB": ("英", "英國"),
    "ID": ("인니",),
    "IN": ("印",),
    "IT": ("伊", "이태리"),
    "JP": ("日", "日本"),
    "KP": ("北", "조선민주주의인민공화국", "북조선", "북측"),
    "KR": ("韓", "韓國", "대한민국", "남한", "우리나라"),
    "MM": ("버마",),
    "NL": ("화란",),
    "RU": ("露", "러시아연방"),
    "SA": ("사우디",),
    "SZ": ("스와질란드",),
    "TH": ("泰",),
    "TR": ("터키",),
    "TW": ("臺", "台", "타이완", "중화민국"),
    "US": ("美", "美國", "미합중국"),
    "VA": ("교황청",),
    "VN": ("越",),
    "ZA": ("남아공", "남아프리카"),
}

# One-syllable forms used in compounds (한·미·일, 미중, 북러). Only well-attested ones.
ABBREV = {
    "KR": "한", "US": "미", "JP": "일", "CN": "중", "KP": "북", "RU": "러", "GB": "영", "DE": "독",
    "FR": "불", "AU": "호", "IN": "인", "VN": "베",
}

# Wikidata ids (ISO 3166-1 alpha-2 -> QID), as published in Our World in Data's country table;
# NL is the country (Q55), not the Kingdom (Q29999); AQ is the continent (Q51).
_QIDS = """
AD Q228 AE Q878 AF Q889 AG Q781 AI Q25228 AL Q222 AM Q399 AO Q916 AQ Q51 AR Q414 AS Q16641
AT Q40 AU Q408 AW Q21203 AX Q5689 AZ Q227 BA Q225 BB Q244 BD Q902 BE Q31 BF Q965 BG Q219
BH Q398 BI Q967 BJ Q962 BL Q25362 BM Q23635 BN Q921 BO Q750 BQ Q27561 BR Q155 BS Q778
BT Q917 BV Q23408 BW Q963 BY Q184 BZ Q242 CA Q16 CC Q36004 CD Q974 CF Q929 CG Q971 CH Q39
CI Q1008 CK Q26988 CL Q298 CM Q1009 CN Q148 CO Q739 CR Q800 CU Q241 CV Q1011 CW Q25279
CX Q31063 CY Q229 CZ Q213 DE Q183 DJ Q977 DK Q35 DM Q784 DO Q786 DZ Q262 EC Q736 EE Q191
EG Q79 EH Q6250 ER Q986 ES Q29 ET Q115 FI Q33 FJ Q712 FK Q9648 FM Q702 FO Q4628 FR Q142
GA Q1000 GB Q145 GD Q769 GE Q230 GF Q3769 GG Q25230 GH Q117 GI Q1410 GL Q223 GM Q1005
GN Q1006 GP Q17012 GQ Q983 GR Q41 GS Q35086 GT Q774 GU Q16635 GW Q1007 GY Q734 HK Q8646
HM Q131198 HN Q783 HR Q224 HT Q790 HU Q28 ID Q252 IE Q27 IL Q801 IM Q9676 IN Q668 IO Q43448
IQ Q796 IR Q794 IS Q189 IT Q38 JE Q785 JM Q766 JO Q810 JP Q17 KE Q114 KG Q813 KH Q424
KI Q710 KM Q970 KN Q763 KP Q423 KR Q884 KW Q817 KY Q5785 KZ Q232 LA Q819 LB Q822 LC Q760
LI Q347 LK Q854 LR Q1014 LS Q1013 LT Q37 LU Q32 LV Q211 LY Q1016 MA Q1028 MC Q235 MD Q217
ME Q236 MF Q126125 MG Q1019 MH Q709 MK Q221 ML Q912 MM Q836 MN Q711 MO Q14773 MP Q16644
MQ Q17054 MR Q1025 MS Q13353 MT Q233 MU Q1027 MV Q826 MW Q1020 MX Q96 MY Q833 MZ Q1029
NA Q1030 NC Q33788 NE Q1032 NF Q31057 NG Q1033 NI Q811 NL Q55 NO Q20 NP Q837 NR Q697
NU Q34020 NZ Q664 OM Q842 PA Q804 PE Q419 PF Q30971 PG Q691 PH Q928 PK Q843 PL Q36
PM Q34617 PN Q35672 PR Q1183 PS Q219060 PT Q45 PW Q695 PY Q733 QA Q846 RE Q17070 RO Q218
RS Q403 RU Q159 RW Q1037 SA Q851 SB Q685 SC Q1042 SD Q1049 SE Q34 SG Q334 SH Q192184
SI Q215 SJ Q842829 SK Q214 SL Q1044 SM Q238 SN Q1041 SO Q1045 SR Q730 SS Q958 ST Q1039
SV Q792 SX Q26273 SY Q858 SZ Q1050 TC Q18221 TD Q657 TF Q129003 TG Q945 TH Q869 TJ Q863
TK Q36823 TL Q574 TM Q874 TN Q948 TO Q678 TR Q43 TT Q754 TV Q672 TW Q865 TZ Q924 UA Q212
UG Q1036 UM Q16645 US Q30 UY Q77 UZ Q265 VA Q237 VC Q757 VE Q717 VG Q25305 VI Q11703
VN Q881 VU Q686 WF Q35555 WS Q683 XK Q1246 YE Q805 YT Q17063 ZA Q258 ZM Q953 ZW Q954
"""
QIDS = dict(zip(_QIDS.split()[::2], _QIDS.split()[1::2], strict=True))


def build_rows() -> list[dict[str, str]]:
    """One row per ISO country babel names in Korean (plus Kosovo), sorted by iso2."""
    import pycountry
    from babel import Locale

    ko = Locale("ko").territories
    iso = {c.alpha_2: (c.alpha_3, getattr(c, "common_name", None) or c.name) for c in pycountry.countries}
    iso.update(EXTRA)
    rows = []
    for iso2 in sorted(set(iso) & set(ko)):
        iso3, name_en = iso[iso2]
        babel_name = ko[iso2]
        name = NAME_KO.get(iso2, babel_name)
        aliases = list(ALIASES.get(iso2, ()))
        keep_babel = "(" not in babel_name and iso2 not in BABEL_NOT_ALIAS
        if keep_babel and babel_name not in (name, *aliases):
            aliases.append(babel_name)
        rows.append({
            "entity_id": f"country:{iso2}",
            "name": name,
            "name_en": NAME_EN.get(iso2, name_en),
            "entity_type": "COUNTRY",
            "wikidata_id": QIDS.get(iso2, ""),
            "aliases": "|".join(a for a in aliases if a != name),
            "iso2": iso2,
            "iso3": iso3,
            "abbrev": ABBREV.get(iso2, ""),
        })
    return rows


def render(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    text = render(build_rows())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10)) - 1} countries to {args.out}")


if __name__ == "__main__":
    main()
