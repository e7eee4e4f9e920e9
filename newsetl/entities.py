"""Typed entity mentions in Korean sentences: gazetteer matches, country compounds, people by title.

Works on kiwi-analysed sentences (newsetl.nlp). Every mention carries character offsets
into its sentence, the canonical entity it names (a reference id, or a discovered name)
and how it was found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsetl.gazetteer import Gazetteer, fold
from newsetl.nlp import Sentence

TITLES = (
    "대통령", "부통령", "총리", "부총리", "국무총리", "장관", "차관", "차관보", "대신", "경제산업상", "외무상", "방위상",
    "재무상", "상무장관", "국무장관", "재무장관", "국방장관", "무역대표", "대표", "주석", "국가주석", "부주석",
    "실장", "수석", "비서관", "대변인", "의장", "부의장", "위원장", "부위원장", "위원", "의원", "대사", "공사",
    "청장", "처장", "원장", "본부장", "국장", "과장", "센터장", "소장", "연구위원", "연구원", "교수", "박사",
    "회장", "부회장", "사장", "부사장", "대표이사", "최고경영자", "CEO", "CFO", "CTO", "COO", "창업자", "이사장",
    "총재", "부총재", "사무총장", "총장", "지사", "주지사", "시장", "군수", "구청장", "도지사", "당선인", "후보",
    "감독", "선수", "씨", "여사", "전무", "상무", "이사", "변호사", "판사", "검사", "특사", "특보", "고문", "상원의원",
    "하원의원", "하원의장", "원내대표", "정책위의장", "사무국장", "단장", "팀장", "총영사", "왕세자", "국왕", "여왕",
)
_TITLE_RE = re.compile(
    r"(?:" + "|".join(sorted(map(re.escape, TITLES), key=len, reverse=True)) + r")(?=$|[^가-힣A-Za-z])"
)
SURNAMES = frozenset(
    "김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부황보"
)
_COMPOUND = re.compile(r"(?<![가-힣])([가-힣])((?:\s?[·ㆍ‧・]\s?[가-힣]){1,5})(?![가-힣])")
_COMPOUND_PLAIN = frozenset({"한미", "한일", "한중", "미중", "미일", "중일", "한미일", "한중일", "북중", "북러", "한러", "미러"})
_CHINA_DAE = re.compile(r"대\s?\(對\)\s?중(?:국)?|대중국|대중(?=\s?(?:수출|무역|제재|관세|견제|압박|정책|봉쇄|반도체|기술|투자|협상|전략|의존|외교|강경|공세|규제|적자|흑자))")
_PARTICLE_TAGS = frozenset({"JKS", "JKC", "JKG", "JKO", "JKB", "JKV", "JKQ", "JX", "JC"})
_NOUNISH = frozenset({"NNP", "NNG", "NNB", "NR", "SL", "SH", "SN", "XSN", "XPN", "SP", "SO", "SW"})
ORG_SUFFIXES = (
    "위원회", "그룹", "전자", "통신", "은행", "증권", "연구원", "연구소", "협회", "재단", "대학교", "일보", "신문",
    "공사", "공단", "중공업", "화학", "에너지", "바이오", "제약", "건설", "자동차", "항공", "조선", "홀딩스", "테크놀로지스",
    "테크", "산업", "물산", "상사", "생명", "보험", "카드", "캐피탈", "방송", "통신사", "기구", "연합", "협의회", "당",
)


@dataclass(frozen=True)
class Mention:
    start: int  # offsets into the sentence text, end exclusive
    end: int
    text: str
    entity_type: str
    entity_id: str | None  # reference id; None for a discovered name
    name: str  # canonical name
    method: str  # gazetteer | compound | title_pattern | suffix_pattern | alias

    @property
    def key(self) -> str:
        return self.entity_id or f"new:{self.entity_type.lower()}:{self.name}"


class Extractor:
    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gaz = gazetteer
        self._china = gazetteer.by_iso2.get("CN")

    def sentence(self, sent: Sentence, known_people: dict[str, Mention] | None = None) -> list[Mention]:
        """Mentions in one sentence; `known_people` maps surfaces of people seen earlier in the article."""
        text, base = sent.text, sent.start
        starts = {t.start - base for t in sent.tokens}
        ends = {t.end - base for t in sent.tokens}
        taken = [False] * len(text)
        found: list[Mention] = []

        def claim(m: Mention) -> bool:
            if any(taken[m.start:m.end]):
                return False
            for i in range(m.start, m.end):
                taken[i] = True
            found.append(m)
            return True

        for m in self._special(text):
            claim(m)
        for m in self._gazetteer(text, starts, ends):
            claim(m)
        for m in self._people(sent, known_people or {}):
            claim(m)
        for m in self._known(text, starts, ends, known_people or {}):
            claim(m)
        for m in self._org_forms(sent):
            claim(m)
        return sorted(found, key=lambda m: (m.start, m.entity_type))

    # -- reference names ---------------------------------------------------------------
    def _gazetteer(self, text: str, starts: set[int], ends: set[int]):
        folded = fold(text)
        i = 0
        while i < len(folded):
            if i not in starts and not (i > 0 and not folded[i - 1].isalnum()):
                i += 1
                continue
            for length in self.gaz.lengths.get(folded[i], ()):
                end = i + length
                if end > len(folded) or (end not in ends and end < len(folded) and folded[end].isalnum()
                                         and not _particle_follows(text, end)):
                    continue
                entity_id = self.gaz.surfaces.get(folded[i:end])
                if entity_id:
                    e = self.gaz.entries[entity_id]
                    yield Mention(i, end, text[i:end], e.entity_type, e.entity_id, e.name, "gazetteer")
                    i = end - 1
                    break
            i += 1

    def _special(self, text: str):
        """Compounds (한·미·일, 미중) as one mention per member country, and 對中 readings of 대중."""
        if self._china:
            for m in _CHINA_DAE.finditer(text):
                yield Mention(m.start(), m.end(), m.group(), "COUNTRY", self._china, self.gaz.entries[self._china].name,
                              "compound")
        for m in _COMPOUND.finditer(text):
            letters = [m.group(1), *re.findall(r"[가-힣]", m.group(2))]
            yield from self._members(text, m.start(), m.end(), letters)
        for m in re.finditer(r"(?<![가-힣])([가-힣]{2,3})(?=[^가-힣]|$|[은는이가과와의도를을])", text):
            if m.group(1) in _COMPOUND_PLAIN:
                yield from self._members(text, m.start(1), m.end(1), list(m.group(1)))

    def _members(self, text: str, start: int, end: int, letters: list[str]):
        ids = [self.gaz.abbrev.get(ch) for ch in letters]
        if len(set(ids)) != len(ids) or not all(ids):
            return
        for entity_id in ids:
            e = self.gaz.entries[entity_id]
            yield Mention(start, end, text[start:end], "COUNTRY", entity_id, e.name, "compound")

    # -- people ---------------------------------------------------------------------------
    def _people(self, sent: Sentence, known: dict[str, Mention]):
        """'안덕근 산업부 장관', '지나 러몬도 미국 상무부 장관', '젠슨 황 엔비디아 CEO', '헬버그 차관'."""
        text, base = sent.text, sent.start
        words = _eojeols(text)
        for idx, (w0, w1, word) in enumerate(words):
            title = _TITLE_RE.match(word) or _TITLE_RE.search(_strip_tail(word))
            if not title or idx == 0:
                continue
            # the noun run before the title: name (+ affiliation), no particles, at most 7 words back
            run = []
            for j in range(idx - 1, max(-1, idx - 8), -1):
                pw0, pw1, pword = words[j]
                if not _bare_noun(sent, base, pw0, pw1) or pword.endswith((",", ".")):
                    break
                run.insert(0, (pw0, pw1, pword))
            # affiliation words on the right are reference names or common nouns; the name is what is left
            while run and (self.gaz.lookup(_clean(run[-1][2])) or run[-1][2] in self.gaz.abbrev
                           or _is_common(sent, base, run[-1][0], run[-1][1])):
                run.pop()
            run = run[-2:]
            if not run:
                continue
            n0 = run[0][0]
            span = text[n0:run[-1][1]]
            span = span.split("(", 1)[0].rstrip(" ,")
            n1 = n0 + len(span)
            name = _clean(span)
            if not _plausible_name(name, title.group(), known):
                continue
            if name in known:
                yield Mention(n0, n1, text[n0:n1], "PERSON", known[name].entity_id, known[name].name, "alias")
                continue
            entry = self.gaz.lookup(name)
            if entry and entry.entity_type == "PERSON":
                yield Mention(n0, n1, text[n0:n1], "PERSON", entry.entity_id, entry.name, "gazetteer")
            elif not entry:
                yield Mention(n0, n1, text[n0:n1], "PERSON", None, name, "title_pattern")

    def _known(self, text: str, starts: set[int], ends: set[int], known: dict[str, Mention]):
        for surface, person in known.items():
            if len(surface) < 2:
                continue
            for m in re.finditer(re.escape(surface), text):
                if m.start() in starts and (m.end() in ends or _particle_follows(text, m.end())):
                    yield Mention(m.start(), m.end(), m.group(), "PERSON", person.entity_id, person.name, "alias")

    # -- organizations by form ---------------------------------------------------------------
    def _org_forms(self, sent: Sentence):
        text, base = sent.text, sent.start
        for t in sent.tokens:
            if t.tag != "NNP" or t.end - t.start < 3:
                continue
            form = t.form
            if form.endswith(ORG_SUFFIXES) and len(form) > max(len(s) for s in ORG_SUFFIXES if form.endswith(s)) + 1:
                s, e = t.start - base, t.end - base
                yield Mention(s, e, text[s:e], "ORG", None, form, "suffix_pattern")


def _eojeols(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", text)]


def _strip_tail(word: str) -> str:
    return re.sub(r"[은는이가을를과와의에도께서,.]+$", "", word)


def _clean(name: str) -> str:
    return re.sub(r"\([^)]*\)", "", name).strip(" ,()")


def _tokens_in(sent: Sentence, base: int, w0: int, w1: int):
    return [t for t in sent.tokens if w0 <= t.start - base < w1]


def _bare_noun(sent: Sentence, base: int, w0: int, w1: int) -> bool:
    toks = _tokens_in(sent, base, w0, w1)
    return bool(toks) and all(t.tag in _NOUNISH or t.tag.startswith(("SS", "SW")) for t in toks) \
        and not any(t.tag in _PARTICLE_TAGS for t in toks)


def _is_common(sent: Sentence, base: int, w0: int, w1: int) -> bool:
    toks = [t for t in _tokens_in(sent, base, w0, w1) if t.tag not in ("SSO", "SSC", "SP")]
    return bool(toks) and all(t.tag in ("NNG", "NNB", "SN", "XSN") for t in toks)


def _particle_follows(text: str, end: int) -> bool:
    return bool(re.match(r"(?:은|는|이|가|을|를|과|와|의|에|에서|에게|도|로|으로|만|까지|부터|측|산|간|계|)(?:[^가-힣]|$)",
                         text[end:end + 4]))


def _plausible_name(name: str, title: str, known: dict[str, Mention]) -> bool:
    if name in known:
        return True
    parts = name.split()
    if not parts or len(parts) > 3 or not all(re.fullmatch(r"[가-힣]{1,6}", p) for p in parts):
        return False
    if len(parts) == 1:
        syllables = len(parts[0])
        if title == "씨" or syllables in (2, 3, 4):
            return syllables >= 2 and (parts[0][0] in SURNAMES or syllables >= 3)
        return False
    return all(len(p) <= 6 for p in parts)
