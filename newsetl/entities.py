"""Typed entity mentions in Korean sentences: gazetteer names, country compounds, a CRF for unlisted names.

Works on kiwi-analysed sentences (newsetl.nlp). Every mention carries character offsets into its
sentence, the canonical entity it names (a reference id, or a discovered name), how it was found,
and for people the title and affiliation the sentence gives them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from newsetl import ner
from newsetl.gazetteer import Entry, Gazetteer, fold
from newsetl.nlp import Sentence, Token


def _alternation(words) -> str:
    """A regex alternation of literal words, longest first (so '부총리' is tried before '총리')."""
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


TITLES = (
    "대통령", "부통령", "총리", "부총리", "국무총리", "장관", "차관", "차관보", "대신", "경제산업상", "외무상", "방위상",
    "재무상", "상무장관", "국무장관", "재무장관", "국방장관", "무역대표", "대표", "주석", "국가주석", "부주석",
    "실장", "수석", "비서관", "대변인", "의장", "부의장", "위원장", "부위원장", "위원", "의원", "대사", "공사",
    "청장", "처장", "원장", "본부장", "국장", "과장", "센터장", "소장", "연구위원", "연구원", "교수", "박사",
    "회장", "부회장", "사장", "부사장", "대표이사", "최고경영자", "CEO", "CFO", "CTO", "COO", "창업자", "이사장",
    "총재", "부총재", "사무총장", "총장", "지사", "주지사", "시장", "군수", "구청장", "도지사", "당선인", "후보",
    "감독", "선수", "씨", "여사", "전무", "상무", "이사", "변호사", "판사", "검사", "특사", "특보", "고문", "상원의원",
    "하원의원", "하원의장", "원내대표", "정책위의장", "사무국장", "단장", "팀장", "총영사", "왕세자", "국왕", "여왕",
    "산업안보차관", "부부장", "행정관", "차장", "부장", "조정관", "수반", "특별보좌관", "보좌관", "의원장", "지검장", "검찰총장",
)
_TITLE_ALT = _alternation(TITLES)
_TITLE_RE = re.compile(r"(?:" + _TITLE_ALT + r")(?=$|[^가-힣A-Za-z])")
# a model's span that ends in a title or a word that stands for one ('배 부총리', '최하지 기자', 'A 기자')
_ROLE_END = re.compile(r"\s(" + _alternation({*TITLES, *ner.TITLE_WORDS}) + r")$")
_TITLE_BEFORE = re.compile(r"(" + _TITLE_ALT + r")\s+$")

SURNAMES = frozenset(
    "김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부황보"
)
# Two-syllable surnames (남궁민재: 남궁 + 민재); rarer ones that are everyday words (서문, 사공, 동방) left out
DOUBLE_SURNAMES = frozenset({"남궁", "황보", "제갈", "선우", "독고"})
# A dotted list of parties: 한·미·일, 한·사우디아라비아·베트남, EU·영은 (a particle may end the last one)
_COMPOUND = re.compile(r"(?<![가-힣A-Za-z])[가-힣A-Za-z]+(?:\s?[·ㆍ‧・]\s?[가-힣A-Za-z]+){1,6}")
_DOT = re.compile(r"\s?[·ㆍ‧・]\s?")
_COMPOUND_PLAIN = frozenset({"한미", "한일", "한중", "미중", "미일", "중일", "한미일", "한중일", "북중", "북러", "한러",
                             "미러", "중러", "한미중", "남북", "북일", "한중러", "북미일"})
_COMPOUND_PLAIN_RE = re.compile(r"(?<![가-힣])(" + _alternation(_COMPOUND_PLAIN) + ")")
HOME_COUNTRY = "KR"  # whose press this reads: its offices go by bare names ('외교부', '국회')
_EXTRA_ABBREV = {"남": "KR"}  # 남북: South and North (남 is not 한's alias elsewhere)
# 對中: 대(對)중, 대중국, and bare 대중 only before a policy noun (대중 alone is 'the public').
_CHINA_DAE = re.compile(
    r"대\s?\(對\)\s?(중)(?:국)?|대(중국)|대(중)(?=\s?(?:수출|수입|무역|제재|관세|견제|압박|정책|봉쇄|반도체|기술|투자|협상|전략|"
    r"의존|의존도|외교|강경|공세|규제|적자|흑자|견제|포위|디커플링|강경책|메시지|공조|통상))"
)
# Particles and endings that may follow a name inside one word, stacked ('엔비디아마저도', '중국과의', '미국산').
_JOSA = (
    "이라는", "이라고", "이라며", "에서는", "에서도", "에게는", "으로는", "으로서", "으로써", "까지도", "에서", "에게", "으로",
    "까지", "부터", "마저", "조차", "처럼", "보다", "라는", "라고", "라며", "이나", "이며", "이고", "이다", "이었다", "였다",
    "에는", "에도", "로는", "로서", "로써", "만큼", "같이", "께서", "대로", "밖에", "과의", "와의", "과도", "와도", "이란",
    "은", "는", "이", "가", "을", "를", "과", "와", "의", "에", "도", "로", "만", "나", "며", "고", "란", "측", "산", "간",
    "계", "발", "행", "판", "인", "들", "뿐", "께", "쪽", "내",
)
_JOSA_ALT = _alternation(_JOSA)
_PARTICLES = re.compile(r"(?:" + _JOSA_ALT + r"){0,3}(?=[^가-힣]|$)")
# After a name: an optional (age/party), up to four affiliation words, then the title ('산업부 장관이', '엔비디아 CEO').
_ROLE_AFTER = re.compile(r"\s*(?:\([^)]{0,20}\)\s*)?((?:[^\s,.]+\s+){0,4}?)([^\s,.]*?)(" + _TITLE_ALT + r")"
                         r"(?=(?:" + _JOSA_ALT + r"){0,2}(?:[^가-힣A-Za-z]|$))")
# Country and place names that are also everyday words: only a proper-noun reading counts.
AMBIGUOUS_NAMES = frozenset({"이란", "인도", "수단", "오만", "가나", "말리", "차드", "기니", "토고", "통가", "가봉",
                             "조지아", "요르단", "대구", "광주", "성주", "고성", "남해", "동해", "서해"})
# An office title glued to its office ('과학기술정책실장', '질병관리본부장'): the office is the organization.
_OFFICE_TAIL = re.compile(r"장(?=$|[^가-힣]|" + _JOSA_ALT + r")")
_OFFICE_ENDS = ("실", "국", "처", "청", "원", "본부", "은행", "위원회", "위", "부", "단", "센터", "공사", "공단", "소", "관")
_NOUNISH = frozenset({"NNP", "NNG", "NNB", "NR", "SL", "SH", "SN", "XSN", "XPN", "SP", "SO", "SW", "W_SERIAL"})
_PROPER_TAGS = frozenset({"NNP", "SL", "SH"})
_GLOSS = re.compile(r"\(([\u4e00-\u9fff]{1,8}|[A-Z][A-Z&]{1,7})\)")
# a Hangul short form in brackets, '이하' (hereafter) optional: '전국경제인연합회(전경련)', '맨체스터 유나이티드(이하 맨유)'
_SHORT_FORM = re.compile(r"\((?:이하\s?)?([가-힣]{2,5})\)")
_WINDOW = 8  # units each side of an unlisted proper noun the pipeline runs the model on (a name is shorter)
_READINGS_KEPT = 10_000  # sentences whose reading a process keeps (~65 MB); the cache starts over when full
_NON_ALNUM = re.compile(r"[^0-9A-Za-z가-힣\u4e00-\u9fff]")
_WORDISH = re.compile(r"[가-힣A-Za-z0-9]")
_PARTICLE_TAGS = frozenset({"JKS", "JKC", "JKG", "JKO", "JKB", "JKV", "JKQ", "JX", "JC"})
ORG_SUFFIXES = (
    "위원회", "그룹", "전자", "통신", "은행", "증권", "연구원", "연구소", "협회", "재단", "대학교", "일보", "신문",
    "공사", "공단", "중공업", "화학", "에너지", "바이오", "제약", "건설", "자동차", "항공", "조선", "홀딩스", "테크놀로지스",
    "테크", "산업", "물산", "상사", "생명", "보험", "카드", "캐피탈", "방송", "통신사", "기구", "연합", "협의회", "당",
)
_QUALIFIER = re.compile(r"(?:인|산)(?=$|[^가-힣]|(?:" + _JOSA_ALT + r")(?:[^가-힣]|$))")
_ORG_HEAD = re.compile(r" (통신|방송|신문|그룹)(?=$|[^가-힣]|(?:" + _JOSA_ALT + r")(?:[^가-힣]|$))")
# Names that point rather than name ('our country'): linked to what they mean, but no name span of their own.
DEICTIC_NAMES = frozenset({"우리나라", "우리 나라", "아국", "본국"})
# ORG/LOC names that identify nothing by themselves (which government? which police?): mentions, never entities.
GENERIC_NAMES = frozenset({
    "정부", "당국", "경찰", "검찰", "법원", "군", "군당국", "국회", "여당", "야당", "행정부", "내각", "대법원", "헌법재판소",
    "재판부", "소방당국", "방역당국", "보건당국", "금융당국", "외교당국", "국방당국", "수사당국", "교육당국", "구단", "회사",
    "기업", "당", "본부", "위원회", "시", "도", "군청", "구청", "시청", "도청", "학교", "대학", "병원", "경찰서", "지검",
    "지법", "고법", "청와대 관계자", "업계", "현지", "국내", "해외", "전국", "지역", "시장", "양국", "각국",
})
_GENERIC_TAIL = re.compile(r"(?:^|\s)(?:정부|당국|행정부|경찰|검찰|군|측|관계자)$")
TYPE_FROM_KLUE = {"PS": "PERSON", "OG": "ORG", "LC": "LOCATION"}
KLUE_FROM_TYPE = {"PERSON": "PS", "ORG": "OG", "COUNTRY": "LC", "LOCATION": "LC"}


@dataclass(frozen=True)
class Mention:
    start: int  # offsets into the sentence text, end exclusive
    end: int
    text: str
    entity_type: str
    entity_id: str | None  # reference id; None for a discovered name
    name: str  # canonical name
    method: str  # gazetteer | compound | dae_china | title_pattern | suffix_pattern | alias | crf | gloss | list
    title: str | None = None  # people: the title the sentence gives ('장관', 'CEO')
    affiliation_id: str | None = None  # people: the organization (or country) of that title
    # not a name span of its own (kept for linking): inside a longer name (한국 in '한국 정부'), or a compound
    # letter the model does not read as a name ('한미 관계')
    nested: bool = False
    generic: bool = False  # a name that identifies nothing alone ('정부', '박' of '박모씨')
    role_type: str | None = None  # how the sentence uses a listed name when the model says so (미국 as ORG)
    confidence: float | None = None  # the model's, for names it found

    @property
    def key(self) -> str:
        return self.entity_id or f"new:{self.entity_type.lower()}:{self.name}"


def default_extractor(model_path: Path | None = None) -> Extractor:
    from newsetl.config import Settings
    from newsetl.gazetteer import cached

    return Extractor(cached(str(Settings().reference_dir)), model_path=model_path)


class Extractor:
    def __init__(self, gazetteer: Gazetteer, model_path: Path | None = None, thorough: bool = True) -> None:
        """`thorough=False` (the pipeline) runs the model only on sentences where kiwi reads a proper noun:
        what it finds elsewhere ('경찰', '정부') never becomes an entity, and the skip saves a third of the time."""
        self.gaz = gazetteer
        self.surnames = SURNAMES
        self.model_path = model_path
        self.thorough = thorough
        self._model = None
        self._readings: dict[tuple, tuple] = {}
        self._china = gazetteer.by_iso2.get("CN")
        self._office_of = _country_offices(gazetteer)
        self._abbrev = dict(gazetteer.abbrev)
        for letter, iso2 in _EXTRA_ABBREV.items():
            if iso2 in gazetteer.by_iso2:
                self._abbrev.setdefault(letter, gazetteer.by_iso2[iso2])

    # -- inputs ---------------------------------------------------------------------------
    def analyse(self, texts: list[str]) -> list[Sentence]:
        """Each text as one analysed sentence (for training and tests; the pipeline splits sentences itself)."""
        from newsetl.nlp import tokenize

        out = []
        for text, tokens in zip(texts, tokenize(texts), strict=True):
            out.append(Sentence(0, len(text), text, [Token(t.form, t.tag, t.start, t.start + t.len) for t in tokens]))
        return out

    def ner_inputs(self, sent: Sentence, matches: list[Mention] | None = None) -> tuple[list[ner.Unit], list[str]]:
        """The CRF's units of a sentence and the gazetteer label of each (B-OG, I-LC, B-CT for a country, X for
        other types, O): countries get their own mark, for KLUE reads a country as a place or as its government."""
        text, base = sent.text, sent.start
        if matches is None:
            tokinfo, matches = self._candidates(sent)
            matches = matches + list(self._special(text, tokinfo))
        toks = [(t.start - base, t.end - base, t.tag) for t in sent.tokens]
        cuts = {m.start for m in matches} | {m.end for m in matches}
        for s, e, tag in toks:
            if tag == "NNP" and e - s == 2 and text[s] in SURNAMES and text[s + 1] == "모":
                cuts.add(s + 1)  # 박모 씨: KLUE and readers take 박 as the name
            elif tag.startswith("NN") and e - s >= 3 and text[e - 1] == "장" and text[s:e - 1].endswith(_OFFICE_ENDS):
                cuts.add(e - 1)  # 외환은행장: the office is a name, 장 its head
        us = ner.units(text, toks, cuts)
        gaz = ["O"] * len(us)
        for m in matches:
            tag = "CT" if m.entity_type == "COUNTRY" else KLUE_FROM_TYPE.get(m.entity_type, "X")
            first = True
            for i, u in enumerate(us):
                if u.start >= m.start and u.end <= m.end:
                    gaz[i] = ("B-" if first else "I-") + tag
                    first = False
        return us, gaz

    # -- one sentence ----------------------------------------------------------------------
    def sentence(self, sent: Sentence, known_people: dict[str, Mention] | None = None,
                 known_offices: dict[str, Mention] | None = None) -> list[Mention]:
        """Mentions in one sentence; `known_people` maps surfaces of people seen earlier in the article, and
        `known_offices` (filled here) the offices it named with their country ('중국 상무부')."""
        known = known_people if known_people is not None else {}
        text = sent.text
        tokinfo, gazetteer, specials, crf = self._reading(sent)
        taken = [False] * len(text)
        found: list[Mention] = []

        def free(s: int, e: int) -> bool:
            return not any(taken[s:e])

        def claim(m: Mention) -> bool:
            if not free(m.start, m.end):
                return False
            for i in range(m.start, m.end):
                taken[i] = True
            found.append(m)
            return True

        def glosses() -> None:
            # a name's own spelling in brackets right after it ('베이징(北京)', '아베 신조(安倍晋三)',
            # '국제펜싱연맹(FIE)'), or its short form ('중앙사고수습본부(중수본)'): the same name again, a span
            # of its own
            for m in list(found):
                if m.nested or m.entity_type not in KLUE_FROM_TYPE:
                    continue
                gloss = _GLOSS.match(text, m.end) if not m.generic else None
                # a short form shares its name's standing: '국민권익위원회(권익위)', common nouns to kiwi, alike
                if not gloss and m.entity_type != "PERSON":
                    gloss = _SHORT_FORM.match(text, m.end)
                    gloss = gloss if gloss and _short_form_of(gloss.group(1), m.text) else None
                if gloss:
                    claim(replace(m, start=gloss.start(1), end=gloss.end(1), text=gloss.group(1), method="gloss",
                                  title=None, affiliation_id=None))

        # '황보건설': a surname-like first letter but a company's ending; '수성구청': a place's office
        # '장비업체 나우라', '핀테크 기업 아이리스아이디': the name a kind of company introduces is that company
        crf = [(c[0], c[1], "OG", *c[3:]) if (c[2] == "PS" and (_org_named(text[c[0]:c[1]])
                                                                 or _COMPANY_BEFORE.search(text, 0, c[0])))
               or (c[2] in ("LC", "PS") and _office_named(text[c[0]:c[1]], c[2] == "PS")) else c for c in crf]
        # '구자라트주': a name ending in a state's '주' is the state where the model reads an organization (KLUE's
        # news has no organization so named, and nine places: '펜실베이니아주', '발루치스탄주'); not a holding
        # company ('금융지주') or drinks
        crf = [(c[0], c[1], "LC", *c[3:]) if c[2] == "OG" and _STATE_NAMED.fullmatch(text[c[0]:c[1]]) else c
               for c in crf]
        # the model reads an organization there and kiwi a proper noun: two signals agree ('반도체 기업 넥스페리아')
        crf = [(*c[:3], 1.0, c[4]) if c[2] == "OG" and c[4] and _COMPANY_BEFORE.search(text, 0, c[0]) else c
               for c in crf]
        # a person's name never ends in a listed country or organization ('저우밍더 중국' before 총리): the
        # affiliation is not part of the name
        crf = [_trim_affiliation(text, c, gazetteer) if c[2] == "PS" else c for c in crf]
        # nor a place's in goods: '캐나다 퀘벡주 양극재' (공장) is a cathode plant in Québec
        crf = [_trim_affiliation(text, c, gazetteer, _GOODS) if c[2] == "LC" else c for c in crf]
        people = list(self._people(sent, known))
        # a name before a title is a person even where the model types it otherwise, if it looks like one
        titled = {(m.start, m.end) for m in people
                  if m.entity_id or (not m.name.endswith(_NOT_PERSON_TAILS)
                                     and (_person_shaped(m.name) or self._all_proper(sent, m.start, m.end)))}
        # the model's span is exactly that name: a person, whatever type the model gives it ('저우샤오밍 중국 총리')
        crf = [(c[0], c[1], "PS", *c[3:]) if c[2] != "PS" and (c[0], c[1]) in titled else c for c in crf]
        # the model stops inside a word kiwi cut oddly ('에밀리 하트' + 웰 차관): the titled name is the whole
        crf = [next(((a, b, *c[2:]) for a, b in titled if a == c[0] and c[1] < b and " " not in text[c[1]:b]), c)
               if c[2] == "PS" else c for c in crf]
        crf_at = {(c[0], c[1]): c[2] for c in crf}
        # compound members share nothing: each letter is its own span, so every member is kept; a letter
        # counts as a name span of its own ('<한>·<미>') only where the model reads one there too
        for m in specials:
            tag = crf_at.get((m.start, m.end))
            if m.method == "compound" and tag not in ("LC", "OG"):
                m = replace(m, nested=True)
            elif tag == "OG":
                m = replace(m, role_type="ORG")  # '남북' as the two governments: KLUE reads <남:OG><북:OG>
            claim(m)
        for m in self._offices(text, gazetteer):
            claim(m)
        for country, ministry in self._ministries(text, gazetteer):
            if claim(ministry):
                found.append(replace(country, nested=True))
        # a statistical span that swallows listed names ('한국 정부', '서울 삼성동 그랜드 인터콘티넨탈')
        # wins the span; the listed names inside stay, nested, for linking
        for c in crf:
            s, e, tag = c[:3]
            if tag != "PS" and any(a < e and s < b for a, b in titled):
                continue  # '서동혁 대통령실 경제안보비서관': a person and the office, not one organization
            inner = [g for g in gazetteer if s <= g.start and g.end <= e and (g.start, g.end) != (s, e)]
            if inner and free(s, e) and not any(g.start < s < g.end or g.start < e < g.end for g in gazetteer) \
                    and self._outer_ok(text, s, e, tag, inner):
                # unlinked, the outer span is a reading convention ('미국 블랙록'), not an entity of its own
                if claim(self._link(text, c, outer=True)):
                    found.extend(replace(g, nested=True) for g in inner)
                    if company := self._company_after_country(sent, c, inner):
                        found.append(company)
        for m in gazetteer:
            if m.entity_type == "COUNTRY" and _STATE_AFTER.match(text, m.end):
                m = self._state_named(m)  # '조지아 주지사': the US state, not the country
            tag = crf_at.get((m.start, m.end))
            if tag and {KLUE_FROM_TYPE.get(m.entity_type), tag} == {"LC", "OG"}:
                m = replace(m, role_type=TYPE_FROM_KLUE[tag])  # 미국 acting as a government: an ORG in context
            if claim(m) and (country := self._country_ahead(m)):
                found.append(country)
        glosses()  # before the model's spans: a listed name's gloss links to it
        for c in crf:
            if c[2] != "PS" and any(a < c[1] and c[0] < b for a, b in titled):
                continue  # a title stands beside that name: a person, whatever type the model gives it
            if free(c[0], c[1]):
                if c[2] == "PS" and (c[0], c[1]) in titled:
                    # the model is unsure, or kiwi reads the name as a common noun ('강지석'), but a title stands
                    # beside it: two signals agree
                    c = (*c[:3], 1.0, True)
                claim(self._link(text, c, known))
        for m in people:
            claim(m)
        for m in self._known(text, tokinfo, known):
            claim(m)
        for m in self._org_forms(sent):
            claim(m)
        for was, m in list(self._listed_among_orgs(sent, found)):
            if was is None:
                claim(m)
            else:
                found[found.index(was)] = m
        glosses()
        found = [self._with_role(text, m, found) if m.entity_type == "PERSON" else m for m in found]
        # the model is unsure of an unfamiliar name ('응우옌반훙', '류샤오밍'), but a title follows it: two
        # signals agree
        found = [replace(m, confidence=1.0) if m.method == "crf" and m.entity_type == "PERSON" and m.title
                 and (m.confidence or 1.0) < 1.0 and not m.generic
                 and (_person_shaped(m.name) or self._all_proper(sent, m.start, m.end)) else m for m in found]
        # '헬버그 차관' after '제이컵 헬버그 미국 국무부 차관': the same role, so the same organization
        first = {p.key: p for p in known.values()}
        found = [replace(m, affiliation_id=first[m.key].affiliation_id)
                 if m.entity_type == "PERSON" and m.title and not m.affiliation_id and m.key in first
                 and first[m.key].title == m.title else m for m in found]
        # a discovered one-word person needs a Korean surname or a title beside it ('헬버그 차관'), else
        # it is more often a word the model mistook ('풀스택')
        found = [replace(m, generic=True) if m.entity_type == "PERSON" and not m.entity_id and not m.title
                 and not _person_shaped(m.name) else m for m in found]
        if known_offices is not None:
            found = self._offices_in_context(found, known_offices)
        return sorted(found, key=lambda m: (m.start, m.nested, m.entity_type))

    def _offices_in_context(self, found: list[Mention], offices: dict[str, Mention]) -> list[Mention]:
        """'상무부' alone is the office of the country the article named it with: after '중국 상무부는 즉각
        반발했다', '허야둥 상무부 대변인' speaks for China's ministry, not for the one the bare name is listed
        for (the US's). The office last named with a country wins; the bare name keeps its listing until then.
        A person whose title that bare name gave ('상무부 대변인') follows it."""
        def named_with_country(m: Mention) -> str | None:
            office = self._office_of.get(m.entity_id or "")
            return office if office and fold(m.text) != office and not m.nested else None

        # a sentence that names an office with its country and the bare name too ('중국 상무부와 상무부는') means
        # two offices: the bare one keeps its listing there
        named_here = {m.entity_id for m in found if named_with_country(m)}
        relinked: dict[str, str] = {}
        out = []
        for m in sorted(found, key=lambda m: m.start):
            if office := named_with_country(m):
                offices[office] = m
            held = offices.get(fold(m.text)) if m.entity_type == "ORG" and not m.nested else None
            if held and m.entity_id and held.entity_id != m.entity_id and held.entity_id not in named_here:
                relinked[m.entity_id] = held.entity_id
                m = replace(m, entity_id=held.entity_id, name=held.name)
            out.append(m)
        named = {m.entity_id for m in out}  # an office named in full in this sentence keeps its people
        return [replace(m, affiliation_id=relinked[m.affiliation_id])
                if m.entity_type == "PERSON" and m.affiliation_id in relinked and m.affiliation_id not in named
                else m for m in out]

    def _reading(self, sent: Sentence) -> tuple[dict[int, tuple[int, str]], list[Mention], list[Mention], list[tuple]]:
        """What a sentence says on its own, before the article's people are linked: its tokens by offset,
        listed names, special forms (compounds, 對中) and the model's spans.

        The same sentence with the same tokens (a wire's stock lines, a correction's unchanged paragraphs,
        a boilerplate sign-off) is read once per process; everything here is in sentence offsets.
        """
        key = (sent.text, tuple((t.start - sent.start, t.end - sent.start, t.tag) for t in sent.tokens))
        reading = self._readings.get(key)
        if reading is None:
            tokinfo, gazetteer = self._candidates(sent)
            specials = list(self._special(sent.text, tokinfo))
            reading = (tokinfo, gazetteer, specials, self._crf(sent, gazetteer + specials))
            if len(self._readings) >= _READINGS_KEPT:
                self._readings.clear()
            self._readings[key] = reading
        tokinfo, gazetteer, specials, crf = reading
        return tokinfo, list(gazetteer), list(specials), list(crf)

    def _run_together_name(self, sent: Sentence, s: int, e: int, name: str) -> bool:
        """'저우샤오밍', '응우옌떤롱': a foreign name written as one word of five or six syllables, which kiwi
        reads as one proper noun, and which no organization's or place's ending closes."""
        return bool(re.fullmatch(r"[가-힣]{5,6}", name)) and not name.endswith(_NOT_PERSON_TAILS) \
            and not _org_named(name) and self._all_proper(sent, s, e)

    @staticmethod
    def _all_proper(sent: Sentence, s: int, e: int) -> bool:
        toks = [t for t in sent.tokens if s <= t.start - sent.start < e]
        return bool(toks) and all(t.tag == "NNP" for t in toks)

    def _candidates(self, sent: Sentence) -> tuple[dict[int, tuple[int, str]], list[Mention]]:
        base = sent.start
        tokinfo: dict[int, tuple[int, str]] = {}
        for t in sent.tokens:
            tokinfo.setdefault(t.start - base, (t.end - base, t.tag))
        return tokinfo, list(self._gazetteer(sent.text, tokinfo))

    # -- reference names ---------------------------------------------------------------
    def _gazetteer(self, text: str, tokinfo: dict[int, tuple[int, str]]):
        folded = fold(text)
        n = len(folded)
        ends = {e for e, _ in tokinfo.values()}
        # names start where a kiwi token starts or after a non-alphanumeric character
        starts = sorted(set(tokinfo) | {m.end() for m in _NON_ALNUM.finditer(folded)} | {0})
        pos = 0
        for i in starts:
            if i < pos or i >= n:
                continue
            c = folded[i]
            if c.isspace() or (_is_latin(c) and i > 0 and _is_latin_alnum(folded[i - 1])):
                continue  # FT inside FTA, KT inside KTX: Latin names start and end at Latin word edges
            if c not in self.gaz.lengths:
                continue
            lengths = self.gaz.lengths2.get(folded[i:i + 2], ())
            if c in self.gaz.lengths2:  # one-character surfaces (美, 中)
                lengths = [*lengths, 1]
            if not lengths:
                continue
            hit = None
            for length in lengths:
                end = i + length
                if end > n:
                    continue
                entity_id = self.gaz.surfaces.get(folded[i:end])
                if not entity_id or not self._edge_ok(text, i, end, ends, tokinfo):
                    continue
                e = self.gaz.entries[entity_id]
                if folded[i:end] in AMBIGUOUS_NAMES and not _proper_reading(text, i, end, tokinfo):
                    continue
                if e.entity_type == "ORG" and i > 0 and "가" <= text[i - 1] <= "힣" and len(e.name) > 1:
                    break  # 경찰청 in 서울지방경찰청: the tail of a longer name, not the listed one
                if end - i == 2 and folded[end - 1] == "측":
                    end -= 1  # 북측: the side (측) is not part of the name
                # 한국인, 중국산: the place qualifies a noun; linked, but not a name span of its own
                nested = folded[i:end] in DEICTIC_NAMES or (
                    e.entity_type in ("COUNTRY", "LOCATION") and bool(_QUALIFIER.match(text, end)))
                if e.entity_type == "ORG" and (head := _ORG_HEAD.match(text, end)):
                    end = head.end(1)  # 'AFP 통신', '아사히 신문': the head noun is part of the name
                hit = Mention(i, end, text[i:end], e.entity_type, e.entity_id, e.name, "gazetteer", nested=nested)
                break
            if hit:
                yield hit
                pos = hit.end

    @staticmethod
    def _edge_ok(text: str, i: int, end: int, ends: set[int], tokinfo: dict[int, tuple[int, str]]) -> bool:
        last = text[end - 1]
        nxt = text[end] if end < len(text) else ""
        if _is_latin_alnum(last) and nxt and _is_latin_alnum(nxt):
            return False
        if not nxt or not nxt.isalnum() or not ("가" <= nxt <= "힣"):
            return True
        if end in ends and _PARTICLES.match(text, end):
            return True
        if _PARTICLES.match(text, end):
            return True
        # an office glued to its head's title: 과학기술정책실장, 질병관리본부장
        return bool(_OFFICE_TAIL.match(text, end)) and ("가" <= last <= "힣")

    def _offices(self, text: str, gazetteer: list[Mention]):
        """'백악관 과학기술정책실장': the office as an organization (the gazetteer matched it glued to 장)."""
        return [m for m in gazetteer if m.entity_type == "ORG" and _OFFICE_TAIL.match(text, m.end)]

    def _special(self, text: str, tokinfo: dict[int, tuple[int, str]]):
        """Each member of a compound (한·미·일, 미중) as its own one-letter mention, and 對中 readings of 대중."""
        if self._china:
            china = self.gaz.entries[self._china]
            for m in _CHINA_DAE.finditer(text):
                g = next(k for k in (1, 2, 3) if m.group(k))
                yield Mention(m.start(g), m.end(g), m.group(g), "COUNTRY", china.entity_id, china.name, "dae_china")
        for m in _COMPOUND.finditer(text):
            yield from self._dotted(text, m.start(), m.group())
        ends = {e for e, _ in tokinfo.values()}
        for m in _COMPOUND_PLAIN_RE.finditer(text):
            end = m.end()
            if end in ends or _PARTICLES.match(text, end) or end == len(text):
                yield from self._members(text, list(range(m.start(), end)))

    def _dotted(self, text: str, start: int, group: str):
        """One-letter members of a dotted list whose every member is a party ('한·사우디아라비아·베트남');
        longer members are left to the gazetteer pass."""
        members, pos = [], 0
        for d in _DOT.finditer(group):
            members.append((start + pos, group[pos:d.start()]))
            pos = d.end()
        last = group[pos:]
        stem = last if self._party(last) else _strip_josa_any(last)
        members.append((start + pos, stem))
        if not all(self._party(w) for _, w in members):
            return
        letters = [(p, w) for p, w in members if len(w) == 1]
        if not letters:
            return
        seen = set()
        for _p, w in letters:
            entity_id = self._abbrev[w]
            if entity_id in seen:
                return
            seen.add(entity_id)
        for p, w in letters:
            e = self.gaz.entries[self._abbrev[w]]
            yield Mention(p, p + 1, w, "COUNTRY", e.entity_id, e.name, "compound")

    def _party(self, word: str) -> bool:
        if len(word) == 1:
            return word in self._abbrev
        entry = self.gaz.lookup(word)
        return bool(entry) and entry.entity_type in ("COUNTRY", "ORG")

    def _members(self, text: str, positions: list[int]):
        ids = [self._abbrev.get(text[p]) for p in positions]
        if len(set(ids)) != len(ids) or not all(ids):
            return
        for p, entity_id in zip(positions, ids, strict=True):
            e = self.gaz.entries[entity_id]
            yield Mention(p, p + 1, text[p], "COUNTRY", entity_id, e.name, "compound")

    # -- the statistical model -----------------------------------------------------------
    def _crf(self, sent: Sentence, matches: list[Mention]) -> list[tuple[int, int, str, float, bool]]:
        """The model's spans: (start, end, PS|OG|LC, confidence, whether kiwi reads a proper noun in it)."""
        if self._model is None:
            self._model = ner.tagger(self.model_path) or False
        model = self._model
        if not model or not sent.tokens:
            return []
        base = sent.start
        uncovered = None
        if not self.thorough:
            # the pipeline keeps only names with a proper noun in them; where every proper noun is already a
            # listed name, the model has nothing to add, and elsewhere it needs only a window around them
            covered = [(m.start, m.end) for m in matches]
            uncovered = [t.start - base for t in sent.tokens if t.tag in _PROPER_TAGS
                         and not any(s <= t.start - base < e for s, e in covered)]
            if not uncovered:
                return []
        us, gaz = self.ner_inputs(sent, matches)
        windows = [(0, len(us))]
        if uncovered is not None and len(us) > 2 * _WINDOW:
            at = [i for i, u in enumerate(us) if any(u.start <= p < u.end for p in uncovered)]
            windows = []
            for i in at:
                lo, hi = max(0, i - _WINDOW), min(len(us), i + _WINDOW + 1)
                if windows and lo <= windows[-1][1]:
                    windows[-1] = (windows[-1][0], hi)
                else:
                    windows.append((lo, hi))
        out = []
        for lo, hi in windows:
            for s, e, tag, conf in ner.predict(sent.text, us[lo:hi], gaz[lo:hi], self.surnames, model):
                if not sent.text[s:e].strip():
                    continue
                proper = any(t.tag in _PROPER_TAGS for t in sent.tokens if s <= t.start - base < e)
                out.append((s, e, tag, conf, proper))
        return out

    def _outer_ok(self, text: str, s: int, e: int, tag: str, inner: list[Mention]) -> bool:
        # the model's longer span is trusted when it is a different kind of thing than the listed parts
        # ('한국 정부' an org around a country); a listed org inside a longer org span is the model's error
        # as often as not, so the listed name keeps it
        return True

    def _company_after_country(self, sent: Sentence, span: tuple, inner: list[Mention]) -> Mention | None:
        """'중국 톈치리튬', '일본 라피더스': an organization span that starts with its country and names no listed
        organization after it. The span stays the reading convention it is; the name after the country is the
        organization, linked (nested) for the warehouse. Before, the whole span was set aside with the company
        in it. Nothing generic passes: '미국 정부', '중국 당국'. Where kiwi reads only proper nouns after the
        country ('중국 윙테크', a span the model gave 0.54), the two agree: the name is kept however unsure the
        model was of the whole span."""
        text = sent.text
        s, e, tag = span[:3]
        if tag != "OG" or len(inner) != 1 or inner[0].entity_type != "COUNTRY" or inner[0].start != s:
            return None
        rest = inner[0].end
        while rest < e and text[rest].isspace():
            rest += 1
        if rest == inner[0].end or rest >= e:
            return None
        company = self._link(text, (rest, e, *span[2:]))
        if company.generic or company.entity_id or company.entity_type != "ORG":
            return None
        if self._all_proper(sent, rest, e):
            company = replace(company, confidence=1.0)
        return replace(company, nested=True)

    def _link(self, text: str, span: tuple, known: dict[str, Mention] | None = None, outer: bool = False) -> Mention:
        """A model span as a mention: the reference entity it names, a person seen before, or a discovered name.

        A discovered name is `generic` (kept out of the entity tables) when it identifies nobody alone
        ('정부', a bare surname), wraps listed names, or has no proper noun in kiwi's reading.
        """
        s, e, tag, conf, proper = span
        surface = text[s:e]
        name = _clean(surface)
        entry = self.gaz.lookup(name) or self.gaz.lookup(_strip_josa(name))
        if entry and KLUE_FROM_TYPE.get(entry.entity_type, "X") == tag:
            return Mention(s, e, surface, entry.entity_type, entry.entity_id, entry.name, "crf", confidence=conf)
        title = None
        if tag == "PS":
            t = _ROLE_END.search(name)  # KLUE-style spans may carry the title: '배 부총리', '윤 선수', 'A 기자'
            if t and t.start() > 0:
                name, title = name[:t.start()].strip(), t.group(1)
            if known and name in known:
                p = known[name]
                return Mention(s, e, surface, "PERSON", p.entity_id, p.name, "alias", title=title, confidence=conf)
        generic = (outer or not proper or name in GENERIC_NAMES or bool(_GENERIC_TAIL.search(name))
                   or len(name) < 2 or not re.search(r"[가-힣A-Za-z]", name))
        return Mention(s, e, surface, TYPE_FROM_KLUE[tag], None, name, "crf", title=title, generic=generic,
                       confidence=conf)

    # -- people ---------------------------------------------------------------------------
    def _people(self, sent: Sentence, known: dict[str, Mention]):
        """'안덕근 산업부 장관', '지나 러몬도 미국 상무부 장관', '젠슨 황 엔비디아 CEO', '헬버그 차관'."""
        text, base = sent.text, sent.start
        words = _eojeols(text)
        for idx, (_w0, _w1, word) in enumerate(words):
            title = _TITLE_RE.match(word) or _TITLE_RE.search(_strip_tail(word))
            if not title or idx == 0:
                continue
            if title.start() and re.search(r"[()\d]|[가-힣]모$", word[:title.start()]):
                continue  # 김모(33)씨: the name is glued to the title in this word, the model's to find
            # the noun run before the title: name (+ affiliation), no particles, at most 7 words back
            run = []
            garbled = 0
            for j in range(idx - 1, max(-1, idx - 8), -1):
                pw0, pw1, pword = words[j]
                if pword.endswith((",", ".")) or _bare_sign(pword):
                    break  # a name never runs across a comma or a bare sign ('기자 = 남궁민재 ... 본부장')
                if not _bare_noun(sent, base, pw0, pw1):
                    # kiwi cuts unknown foreign names oddly (카롤리/NNG + 나/JC, 아난야/NNG + 이/VCP + 라오/EF):
                    # a Hangul word with no predicate and no case particle in it, before a name word, is a name part
                    if run and garbled < 2 and _garbled_name_word(_tokens_in(sent, base, pw0, pw1), pword):
                        run.insert(0, (pw0, pw1, pword))
                        garbled += 1
                        continue
                    break
                run.insert(0, (pw0, pw1, pword))
            # affiliation words on the right are reference names or common nouns; the name is what is left
            # (kiwi reads an unknown Korean name as a common noun: the last word standing stays if name-shaped)
            listed_popped = False
            while run and not _token_crosses_into(sent, base, run[-1][0]) \
                    and ((listed := bool(self.gaz.lookup(_clean(run[-1][2])) or run[-1][2] in self.gaz.abbrev))
                         or (_is_common(sent, base, run[-1][0], run[-1][1])
                             and not (len(run) == 1 and _korean_full_name(_clean(run[0][2]))))):
                # '아슈위니 바이슈나우 인도 전자정보기술부 장관': kiwi reads both words of a foreign name as common
                # nouns; two such words left of a listed affiliation are the name
                if listed_popped and not listed and len(run) == 2 and all(
                        _foreign_name_word(sent, base, w0, w1, w) for w0, w1, w in run):
                    break
                listed_popped = listed_popped or listed
                run.pop()
            run = run[-2:]
            if len(run) == 2 and self._listed_place(_clean(run[0][2])):
                run = run[1:]  # '중국 시진핑 주석', '경남 밀양 ... 공사': a place before the name is not part of it
            if not run:
                continue
            n0 = run[0][0]
            span = text[n0:run[-1][1]]
            span = span.split("(", 1)[0].rstrip(" ,")
            n1 = n0 + len(span)
            lead = len(span) - len(span.lstrip("'\"‘’“”「『<《"))
            n0, span = n0 + lead, span[lead:]  # '뽀빠이 ...: the quote is not part of the name
            name = _clean(span)
            if not (_plausible_name(name, title.group(), known) or self._run_together_name(sent, n0, n1, name)):
                continue
            # '서문시장', '시공사': a word that ends like a title but may name a market or a firm; before a word
            # that names no office, only a Korean full name makes a mayor of the town ('은수미 성남시장')
            if title.start() and title.group() in _COMMON_WHEN_GLUED and name not in known \
                    and (title.group() == "공사" or not _korean_full_name(name)) \
                    and not self._affiliation(word[:title.start()]):
                continue
            if _org_named(name) or (name[-1] == title.group()[0] and name not in known):
                continue  # 대우건설 사장, 유치원 원장: the organization the title heads, not a person
            if name in known:
                yield Mention(n0, n1, text[n0:n1], "PERSON", known[name].entity_id, known[name].name, "alias")
                continue
            entry = self.gaz.lookup(name)
            if entry and entry.entity_type == "PERSON":
                yield Mention(n0, n1, text[n0:n1], "PERSON", entry.entity_id, entry.name, "gazetteer")
            elif not entry:
                yield Mention(n0, n1, text[n0:n1], "PERSON", None, name, "title_pattern",
                              generic=len(name) < 2)

    def _affiliation(self, prefix: str) -> bool:
        """The part of a word before a title glued to it names what the title heads: a listed organization or
        place ('부산시장'), one led by a listed place ('부산광역시장'), or a name with an office's or an
        organization's ending."""
        entry = self.gaz.lookup(prefix)
        return (entry is not None and entry.entity_type != "PERSON") or prefix in self.gaz.abbrev \
            or (len(prefix) >= 2 and prefix.endswith(_OFFICE_PREFIX_TAILS)) or _org_named(prefix) \
            or any(self._listed_place(prefix[:k]) for k in range(2, len(prefix)))

    def _listed_place(self, word: str) -> bool:
        entry = self.gaz.lookup(word)
        return entry is not None and entry.entity_type in ("COUNTRY", "LOCATION")

    def _known(self, text: str, tokinfo: dict[int, tuple[int, str]], known: dict[str, Mention]):
        ends = {e for e, _ in tokinfo.values()}
        for surface, person in known.items():
            if len(surface) < 2:
                continue
            for m in re.finditer(re.escape(surface), text):
                if m.start() in tokinfo and (m.end() in ends or _PARTICLES.match(text, m.end())):
                    yield Mention(m.start(), m.end(), m.group(), "PERSON", person.entity_id, person.name, "alias")

    def _with_role(self, text: str, person: Mention, found: list[Mention]) -> Mention:
        """The title and affiliation written next to a person: '안덕근 산업부 장관', '젠슨 황 엔비디아 CEO'."""
        tail = text[person.end:person.end + 60]
        m = _ROLE_AFTER.match(tail)
        if m and m.start(3) and re.match(r"[을를]\s", tail):
            m = None  # the name is an object ('나인뮤지스를 탈퇴한 가수 류세라 씨'): the title is another's
        title = affiliation = None
        between = (m.group(1) or "").strip() if m else ""
        # no particle ends the words between, and no bare sign stands among them ('기자 = 남궁민재 ... 본부장')
        if m and not re.search(r"[은는이가을를와과의에도]$", between) \
                and not any(_bare_sign(w) for w in between.split()):
            title = m.group(3)
            lo, hi = person.end + m.start(1), person.end + m.start(3)
            orgs = [f for f in found if lo <= f.start < hi and f.entity_type in ("ORG", "COUNTRY") and f.entity_id]
            orgs = [f for f in orgs if not f.nested] or orgs
            org = next((f for f in reversed(orgs) if f.entity_type == "ORG"), None) or (orgs[-1] if orgs else None)
            affiliation = org.entity_id if org else None
            if re.search(r"[가-힣]{2,}$", m.group(2) or "") and not org:
                title = m.group(2) + title  # '산업안보' + '차관': a compound title
            if not org and not between:
                # '산업통상자원부 박성택 차관', '중국 외교부 린젠 대변인': the organization stands before the name
                org = next((f for f in found if f.end == person.start - 1 and text[f.end] == " " and f.entity_id
                            and f.entity_type in ("ORG", "COUNTRY") and not f.nested), None)
                affiliation = org.entity_id if org else None
        if not title:
            before = text[max(0, person.start - 30):person.start]
            b = _TITLE_BEFORE.search(before)
            if b:
                title = b.group(1)
        if title == person.text:
            title = None
        return replace(person, title=title, affiliation_id=affiliation) if title or affiliation else person

    def _state_named(self, m: Mention) -> Mention:
        """A country's name that a state shares ('조지아' of 조지아주), said of that state's office: the state."""
        entry = self.gaz.lookup(m.text + "주")
        if entry is None or entry.entity_type != "LOCATION":
            return m
        return replace(m, entity_type="LOCATION", entity_id=entry.entity_id, name=entry.name)

    def _country_ahead(self, m: Mention) -> Mention | None:
        """The country a listed name starts with ('대만 TSMC', '중국 상무부'), nested, as the model's longer spans
        keep theirs ('미국 행정부'): the article mentions that country too."""
        head = m.text.split(" ", 1)[0] if m.entity_type != "COUNTRY" and " " in m.text else None
        entry = self.gaz.lookup(head) if head else None
        if entry is None or entry.entity_type != "COUNTRY":
            return None
        return Mention(m.start, m.start + len(head), head, "COUNTRY", entry.entity_id, entry.name, "gazetteer",
                       nested=True)

    # -- organizations by form ---------------------------------------------------------------
    @staticmethod
    def _ministries(text: str, gazetteer: list[Mention]):
        """(country, ministry) for a listed country followed by a ministry no list has: '인도네시아
        에너지광물자원부', '네덜란드 대외무역개발협력부'. The ministry's name includes its country, as listed ones
        do ('중국 상무부'); a listed ministry after its country ('한국 산업통상자원부') is the listed one."""
        listed = {g.start for g in gazetteer}
        for g in gazetteer:
            if g.entity_type == "COUNTRY" and (m := _MINISTRY.match(text, g.end)) and m.start(1) not in listed \
                    and not m.group(1).endswith(_NOT_MINISTRY) and not _REGION.fullmatch(m.group(1)):
                yield g, Mention(g.start, m.end(1), text[g.start:m.end(1)], "ORG", None, text[g.start:m.end(1)],
                                 "suffix_pattern")

    def _listed_among_orgs(self, sent: Sentence, found: list[Mention]):
        """'소니그룹, 덴소, 도요타자동차와': a name listed between two organizations is one too, and so is the last
        name of a list that a kind of company introduces ('광산업체 라이너스, 아이루카와'). One word with an
        organization ending right before its comma and another starting right after its separator: where the
        model read nothing there, every token of it a proper noun to kiwi (or Latin letters); where the model
        gave it another type ('삼성전자, 덴소와 도요타자동차': a person) or was unsure of it ('나우라, 피오테크와
        AMEC'), that discovered name is an organization: two signals agree.
        Yields (the mention it replaces or None, the organization)."""
        text, base = sent.text, sent.start
        orgs = [m for m in found if m.entity_type == "ORG" and not m.nested and not m.generic]
        starts, by_end = {m.start for m in orgs}, {m.end: m for m in orgs}

        def introduced(end: int) -> bool:
            """Whether the run of organizations that ends at `end` follows a kind of company: in '광산업체
            라이너스, 아이루카와 …' the kind names every item, the last one too."""
            while (org := by_end.get(end)) is not None:
                if _COMPANY_BEFORE.search(text, 0, org.start):
                    return True
                end = org.start - 2 if text.startswith(", ", org.start - 2) else -1
            return False

        for item in _LIST_ITEM.finditer(text):
            s, e = item.span("name")
            if item.start() not in by_end or (item.end() not in starts and not introduced(item.start())):
                continue
            there = [f for f in found if f.start < e and s < f.end]
            if not there:
                tokens = [t for t in sent.tokens if s <= t.start - base and t.end - base <= e]
                if tokens and all(t.tag in ("NNP", "SL", "SH") for t in tokens) and tokens[0].start - base == s \
                        and tokens[-1].end - base == e:
                    yield None, Mention(s, e, text[s:e], "ORG", None, text[s:e], "list")
            elif len(there) == 1 and (m := there[0]).method == "crf" and not m.entity_id \
                    and (m.start, m.end) == (s, e) and (m.entity_type != "ORG" or m.generic or (m.confidence or 1.0) < 1.0):
                yield m, replace(m, entity_type="ORG", method="list", generic=False, title=None, confidence=None)

    def _org_forms(self, sent: Sentence):
        text, base = sent.text, sent.start
        for t in sent.tokens:
            if t.tag != "NNP" or t.end - t.start < 3:
                continue
            form = t.form
            if form.endswith(ORG_SUFFIXES) and len(form) > max(len(s) for s in ORG_SUFFIXES if form.endswith(s)) + 1:
                s, e = t.start - base, t.end - base
                yield Mention(s, e, text[s:e], "ORG", None, form, "suffix_pattern")


def _country_offices(gaz: Gazetteer) -> dict[str, str]:
    """Listed organizations named '<country> <office>' whose office alone is a listed name of another country's
    office (중국 상무부 and 상무부, listed for the US): entity id -> that office's name, as folded.

    A name the home press uses for its own government's office ('외교부', '국방부', '국회': Korea's) stays
    Korea's whatever the article named before: '중국 외교부는 … 외교부 당국자는' is most often Seoul's reply."""
    countries = {e.name for e in gaz.entries.values() if e.entity_type == "COUNTRY"}
    out = {}
    for e in gaz.entries.values():
        head, _, office = e.name.partition(" ")
        listed = gaz.entries.get(gaz.surfaces.get(fold(office), ""))
        if e.entity_type == "ORG" and head in countries and listed and listed.country not in ("", HOME_COUNTRY):
            out[e.entity_id] = fold(office)
    return out


def _is_latin(c: str) -> bool:
    return "a" <= c <= "z" or "A" <= c <= "Z"


def _is_latin_alnum(c: str) -> bool:
    return _is_latin(c) or "0" <= c <= "9"


def _proper_reading(text: str, i: int, end: int, tokinfo: dict[int, tuple[int, str]]) -> bool:
    """이란 is Iran only where kiwi reads a proper noun there (not '전략이란', '인도를 받다', '인도적')."""
    tok = tokinfo.get(i)
    if not tok or tok[0] != end or tok[1] != "NNP":
        return False
    return not text.startswith("적", end)


_OFFICE_HEADS = ("청", "경찰서", "소방서", "위원회", "공사", "공단", "은행", "협회", "지검")


def _office_named(name: str, words: bool = False) -> bool:
    """The last word is an office ('수성구청', '은평경찰서'); with `words`, only after a word before it ('대구 수성구청'),
    for a one-word person's name may end so."""
    if words and len(name.split()) < 2:
        return False
    last = name.split()[-1] if name.split() else name
    return any(last.endswith(h) and len(last) > len(h) for h in _OFFICE_HEADS)


def _org_named(word: str) -> bool:
    return " " not in word and any(word.endswith(t) and len(word) > len(t) for t in _ORG_NAME_TAILS)


def _short_form_of(short: str, name: str) -> bool:
    """Korean short forms keep syllables of the full name in order: 중수본 of 중앙사고수습본부, 권익위 of
    국민권익위원회, 맨유 of 맨체스터 유나이티드. A bracket that names something else (a player's club or
    country, the actor of a role) is no such form."""
    name = name.replace(" ", "")
    if len(short) >= len(name):
        return False
    rest = iter(name)
    return all(c in rest for c in short)


def _person_shaped(name: str) -> bool:
    parts = name.split()
    if len(parts) > 1:
        return all(re.fullmatch(r"[가-힣A-Za-z.\-]+", p) for p in parts)
    return bool(re.fullmatch(r"[가-힣]{2,4}", name)) and name[0] in SURNAMES


def _garbled_name_word(toks: list[Token], word: str) -> bool:
    if not re.fullmatch(r"[가-힣]{2,6}", word) or not toks or word in TITLES:
        return False
    if toks[-1].tag in ("JC", "JX") and toks[-1].form != "나":
        return False  # 장관은, 차관도: a real particle
    # a predicate of any conjugation: kiwi marks an irregular one 'VV-I', 'VA-R' ('짓는다고' is 짓/VV-I + 는다고/EC)
    return not any(t.tag.split("-")[0] in ("VV", "VA", "VX", "XSV", "XSA", "MAG", "MAJ", "MM", "ETM")
                   or t.tag.startswith("JK") for t in toks)


# nouns that stand before an affiliation and title without being a name ('당시 미국 상무장관', '한편 …'), beside
# the time words of _NOT_NAMES
_NOT_NAME_WORDS = frozenset({
    "당시", "한편", "최근", "현재", "이후", "이전", "올해", "내년", "작년", "금년", "그동안", "이번",
    "전직", "현직", "신임", "전임", "후임", "차기", "초대", "역대", "당국", "정부", "업계", "관계자", "측근", "대변인",
    "대표단", "일행", "부부", "모두", "각각", "함께", "직접", "공동", "양국", "각국", "회의", "회담", "행사", "기념식",
})


def _foreign_name_word(sent: Sentence, base: int, w0: int, w1: int, word: str) -> bool:
    """A word of a foreign name as kiwi reads an unknown one: 2-6 Hangul syllables, one noun token for the whole
    word, and none of the nouns that stand before a title in other roles."""
    toks = _tokens_in(sent, base, w0, w1)
    return bool(re.fullmatch(r"[가-힣]{2,6}", word)) and word not in _NOT_NAME_WORDS and word not in _NOT_NAMES \
        and word not in TITLES \
        and len(toks) == 1 and toks[0].tag in ("NNG", "NNP")


def _token_crosses_into(sent: Sentence, base: int, w0: int) -> bool:
    """A kiwi token that starts in the word before and runs into this one ('에밀리 하트' + 웰): one name."""
    return any(t.start - base < w0 < t.end - base for t in sent.tokens)


# a name ending so is an organization ('한진관광 대표이사', '대우건설 사장')
_ORG_NAME_TAILS = tuple(t for t in (*ORG_SUFFIXES, *ner.ORG_TAILS) if len(t) >= 2 and t != "대학") + ("관광", "유통")
# titles that, glued to a word, more often end a common noun: 서문시장 (a market), 시공사 (a firm), 도로공사 (works)
_COMMON_WHEN_GLUED = frozenset({"시장", "공사"})
# what an office's name ends with (부, 청, 시...), when such a title is glued to it
_OFFICE_PREFIX_TAILS = ("부", "청", "처", "원", "위", "시", "도", "군", "구", "당", "회", "국", "실", "단", "사", "소", "관")
# a ministry's name after its country: three or more syllables ending in 부, then a particle, a title or a space
_MINISTRY = re.compile(r" ([가-힣]{2,12}부)(?=은|는|이|가|의|와|과|도|를|을|에|로|장관|차관|대변인|\s|[,.)]|$)")
# words ending in 부 that name no ministry: bodies of people ('고위간부', '최고지도부'), parts ('내부', '일부'),
# people ('농부', '주부')
_NOT_MINISTRY = ("간부", "지도부", "수뇌부", "내부", "외부", "일부", "전부", "세부", "본부", "사령부", "상층부", "핵심부",
                 "집행부", "지휘부", "대부", "신부", "농부", "어부", "주부")
_STATE_AFTER = re.compile(r" ?주\s?(?:지사|정부|의회|상원|하원|법원)")  # a state's offices: '조지아 주지사'
_REGION = re.compile(r"[동서남북중]+부")  # '미국 북동부', '중국 서남부': a part of the country
# a state's name ('구자라트주'), not a holding company's or a drink's ('금융지주', '맥주', '소주', '주주')
_STATE_NAMED = re.compile(r"[가-힣]{2,}(?<!지)(?<!맥)(?<!소)(?<!주)주")
# a word for a kind of company right before a name: '장비업체 ', '핀테크 기업 ', '자회사인 '
_COMPANY_BEFORE = re.compile(r"(?:업체|기업|회사|제조사|스타트업|자회사|계열사|협력사|운영사|개발사)(?:인|로|였던)?\s$")
_NOT_PERSON_TAILS = ("당", "대", "점", "시", "군", "구", "도", "원", "부", "청", "사", "관", "회", "단", "국", "소")
_NOT_NAMES = frozenset({"지난달", "지난해", "이번달", "이튿날", "다음달", "전날밤", "이날밤", "지난주", "이번주", "다음주"})


def _bare_sign(word: str) -> bool:
    """A word with no letter or digit ('=', '·'): a name or its title never runs across one."""
    return not _WORDISH.search(word)


def _korean_full_name(word: str) -> bool:
    """Surname + two syllables ('강지석', '남궁민재'): kiwi reads an unknown one as a common noun."""
    if len(word) == 4 and word[:2] in DOUBLE_SURNAMES:
        return bool(re.fullmatch(r"[가-힣]{4}", word))
    return len(word) == 3 and word[0] in SURNAMES and bool(re.fullmatch(r"[가-힣]{3}", word)) \
        and word not in _NOT_NAMES


_AFFILIATIONS = ("COUNTRY", "ORG", "LOCATION")
_GOODS = ("COMMODITY", "TECHNOLOGY")


def _trim_affiliation(text: str, c: tuple, gazetteer: list[Mention], types: tuple[str, ...] = _AFFILIATIONS) -> tuple:
    """A model span cut before a listed name of these types (a country, organization or place) that ends it as
    a word of its own."""
    s, e = c[0], c[1]
    for g in gazetteer:
        if s < g.start and g.end == e and g.entity_type in types and text[g.start - 1] == " ":
            head = text[s:g.start].rstrip()
            if head:
                return (s, s + len(head), *c[2:])
    return c


# one item of a list: ', 덴소, ' or ', 덴소와 ' (the item's own separator after it)
_LIST_ITEM = re.compile(r",\s(?P<name>[^\s,]+?)(?:,\s|(?:와|과|및)\s)")


def _eojeols(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", text)]


def _strip_tail(word: str) -> str:
    return re.sub(r"[은는이가을를과와의에도께서,.]+$", "", word)


_JOSA_END = re.compile(r"(?:" + _JOSA_ALT + r")$")


def _strip_josa_any(word: str) -> str:
    m = _JOSA_END.search(word)
    return word[:m.start()] if m and m.start() >= 1 else word


def _strip_josa(name: str) -> str:
    m = _JOSA_END.search(name)
    return name[:m.start()] if m and m.start() >= 2 else name


def _clean(name: str) -> str:
    return re.sub(r"\([^)]*\)", "", name).strip(" ,()'\"‘’“”")


def _tokens_in(sent: Sentence, base: int, w0: int, w1: int):
    return [t for t in sent.tokens if w0 <= t.start - base < w1]


def _bare_noun(sent: Sentence, base: int, w0: int, w1: int) -> bool:
    toks = _tokens_in(sent, base, w0, w1)
    return bool(toks) and all(t.tag in _NOUNISH or t.tag.startswith(("SS", "SW")) for t in toks) \
        and not any(t.tag in _PARTICLE_TAGS for t in toks)


def _is_common(sent: Sentence, base: int, w0: int, w1: int) -> bool:
    toks = [t for t in _tokens_in(sent, base, w0, w1) if t.tag not in ("SSO", "SSC", "SP")]
    return bool(toks) and all(t.tag in ("NNG", "NNB", "SN", "XSN", "XPN") for t in toks)


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


def entry_of(gaz: Gazetteer, entity_id: str | None) -> Entry | None:
    return gaz.entries.get(entity_id) if entity_id else None
