"""Event arguments from Korean sentence structure: who acts and who is acted on, read off case particles.

The subject particle (은/는/이/가) marks the actor, 에/에게/을/를/산/측에 the target, 과/와 a partner or a
list ('A와 B는': both actors); a noun phrase ('러몬도 미국 상무장관은') takes the particle of its head word.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from newsetl.gazetteer import Gazetteer
from newsetl.gazetteer import cached as cached_gazetteer

PARTY_TYPES = frozenset({"COUNTRY", "ORG", "PERSON"})
TOPIC_TYPES = frozenset({"COMMODITY", "TECHNOLOGY", "PROGRAM"})
# Types whose participants act together (two actors, no target), as DESIGN.md and PLOVER read them.
SYMMETRIC = frozenset({"CONSULT", "AGREE", "COOPERATE"})
# News outlets are sources of a report ('블룸버그통신에 따르면'), never its participants.
SOURCE_SUBTYPES = frozenset({"media"})
# Organisations that speak for their country, so that '미국 상무부' and '미국' can be one event's party.
STATE_SUBTYPES = frozenset({"government", "ministry", "agency", "legislature", "military"})

_CLOSERS = re.compile(r"(?:['’”」』\])]|\([^()]{0,24}\))*")
# particle (spaces removed) -> marker; the regex lists longer forms first
_PARTICLES = {
    "에대한": "obj", "에대해": "obj", "을겨냥": "obj", "를겨냥": "obj", "으로부터": "obj", "로부터": "obj",
    "에게": "obj", "에서": "loc", "께서": "subj", "측은": "subj", "측이": "subj", "측에": "obj", "측과": "with",
    "측의": "gen", "과의": "gen", "와의": "gen", "은": "subj", "는": "subj", "이": "subj", "가": "subj", "도": "subj",
    "에": "obj", "을": "obj", "를": "obj", "산": "obj", "으로": "obj", "로": "obj", "과": "with", "와": "with",
    "의": "gen",
}
_PARTICLE_ALT = (r"에\s?대한|에\s?대해|[을를]\s?겨냥|으로부터|로부터|에게|에서|께서|측[은이에과의]|[과와]의"
                 r"|[은는이가도에을를산과와의]|으로|로")
_PARTICLE = re.compile(rf"(?P<p>{_PARTICLE_ALT})(?:도|는|만|의|서)?(?![가-힣])")
_HEAD = re.compile(rf"^(?P<head>.*?)['’”」』)]*(?P<p>{_PARTICLE_ALT})(?:도|는|만|의|서)?[.,]?$")
_LIST = re.compile(r"\s*(?:,|、|및\s|그리고\s)")
_WORD = re.compile(r"\s+(\S+)")
_VERBISH = re.compile(r"(?:다|고|며|서|면|해|한|할|하는|된|되는|될|던|는데|지만|니다|…)[.,]?$")
_EVENT_HEAD = re.compile(r"회담|회의|통화|협약|협정|MOU|성명|선언|동맹|합의|계약")
_COMPOUND = re.compile(r"(?<![가-힣A-Za-z])([가-힣]{1,8}(?:\s?[·ㆍ‧・]\s?[가-힣]{1,8}){1,5})")
_TRAILING = re.compile(r"(?:은|는|이|가|과|와|의|에|도|을|를|에서|간|측)$")


@dataclass(frozen=True)
class Party:
    start: int  # offsets in the sentence
    end: int
    key: str  # entity key (reference id or discovered key)
    entity_type: str


@dataclass(frozen=True)
class Affiliations:
    """Reference facts the roles need: which organisations are outlets, which speak for a country, which are the
    field's companies."""

    sources: frozenset[str]
    country_of: dict[str, str]  # person / state organisation -> country entity id
    companies: frozenset[str] = frozenset()


@lru_cache(maxsize=2)
def load_affiliations(reference_dir: str) -> Affiliations:
    base = Path(reference_dir)
    sources, country_of, companies = set(), {}, set()
    for stem, use in (("organizations", "org"), ("people", "person")):
        path = base / f"{stem}.csv"
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                subtype = (row.get("subtype") or "").strip()
                if subtype in SOURCE_SUBTYPES:
                    sources.add(row["entity_id"])
                elif subtype == "company":
                    companies.add(row["entity_id"])
                iso2 = (row.get("country") or "").strip()
                if iso2 and (use == "person" or subtype in STATE_SUBTYPES):
                    country_of[row["entity_id"]] = f"country:{iso2}"
    return Affiliations(frozenset(sources), country_of, frozenset(companies))


def compound_parties(text: str, gaz: Gazetteer) -> list[Party]:
    """Every member of '한·미·일', '미·멕시코·이탈리아는', '중·독은' as a country party over the whole list."""
    out = []
    for m in _COMPOUND.finditer(text):
        pieces = re.split(r"\s?[·ㆍ‧・]\s?", m.group(1))
        last = pieces[-1]
        ids = [_country(p, gaz) for p in pieces[:-1]]
        tail = _country(last, gaz)
        end = m.end(1)
        if tail is None and (stripped := _TRAILING.sub("", last)) != last:
            tail, end = _country(stripped, gaz), m.end(1) - (len(last) - len(stripped))
        ids.append(tail)
        if all(ids) and len(set(ids)) == len(ids):
            out.extend(Party(m.start(1), end, i, "COUNTRY") for i in ids)
    return out


def _country(piece: str, gaz: Gazetteer) -> str | None:
    if len(piece) == 1:
        return gaz.abbrev.get(piece)
    entry = gaz.lookup(piece)
    return entry.entity_id if entry and entry.entity_type == "COUNTRY" else None


@lru_cache(maxsize=2)
def gazetteer(reference_dir: str) -> Gazetteer:
    return cached_gazetteer(reference_dir)


@dataclass(frozen=True)
class Marker:
    kind: str  # subj | obj | with | gen | loc | list | event | bare
    particle: str  # the particle itself ('' for list, event, bare)
    end: int  # where the noun phrase (and its particle) ends


def marker(text: str, party: Party) -> Marker:
    """The grammatical marker of a party's noun phrase.

    A phrase runs over up to three more words ('독일 기업 9곳을', '러몬도 미국 상무장관은'); a party that
    modifies an event noun ('미·중 정상회담에서', '한·미 업무협약을') is marked 'event'.
    """
    pos = _CLOSERS.match(text, party.end).end()
    if m := _PARTICLE.match(text, pos):
        p = "".join(m.group("p").split())
        return Marker(_PARTICLES[p], p, m.end())
    if m := _LIST.match(text, pos):
        return Marker("list", "", m.end())
    cursor = pos
    for _ in range(3):
        w = _WORD.match(text, cursor)
        if not w:
            break
        word = w.group(1)
        if word.startswith(("\"", "“", "‘", "'")) or _VERBISH.search(word) and not _HEAD.match(word):
            break
        if h := _HEAD.match(word):
            if _EVENT_HEAD.search(h.group("head")):
                return Marker("event", "", w.end(1))
            p = "".join(h.group("p").split())
            return Marker(_PARTICLES[p], p, w.end(1))
        if _EVENT_HEAD.search(word):
            return Marker("event", "", w.end(1))
        cursor = w.end(1)
        if word.endswith(","):
            return Marker("list", "", cursor)
    return Marker("bare", "", pos)


def assign_roles(text: str, parties: list[Party], event_type: str, trigger_start: int) -> list[tuple[str, str]]:
    """(entity key, role) per party: actor, target, or location (a country after 에서)."""
    parties = sorted(parties, key=lambda p: (p.start, p.end))
    marks = [marker(text, p) for p in parties]
    own = list(marks)
    kinds = [m.kind for m in marks]
    # a list or 'A와 B' takes the marker of its last member when the next party follows at once
    for i in range(len(parties) - 2, -1, -1):
        if kinds[i] in ("with", "list", "bare") and parties[i + 1].start - marks[i].end <= 2:
            kinds[i] = kinds[i + 1]
            marks[i] = marks[i + 1]
    symmetric = event_type in SYMMETRIC
    topics = [p.start for p, m in zip(parties, marks, strict=True) if m.particle in ("은", "는", "께서", "측은")]
    has_subject = "subj" in kinds
    roles = []
    for i, (party, kind) in enumerate(zip(parties, kinds, strict=True)):
        if kind == "subj":
            # '중국은 미국이 ... 강행할 경우': a 이/가 subject after the topic belongs to an embedded clause
            embedded = bool(topics) and party.start > topics[0] and marks[i].particle in ("이", "가")
            roles.append("target" if embedded and not symmetric else "actor")
        elif kind == "with":
            roles.append("actor" if symmetric else "target")
        elif kind == "event":
            roles.append("actor" if symmetric or not has_subject else "target")
        elif kind == "loc":
            roles.append("location" if party.entity_type == "COUNTRY" else "target")
        elif kind in ("obj", "gen"):
            roles.append("target")
        else:  # bare: the first party of a headline ('美, 中에 ...') acts
            roles.append("actor" if not has_subject and i == 0 else "target")
    if roles and "actor" not in roles:
        # no party is marked as the one acting: the first before the trigger acts ('美, 中에 …' in a headline),
        # but never one the sentence addresses with 에/에게, alone or joined by 와/과 ('네덜란드와 일본 정부에도
        # 동참을 요청한': the one asking is in an earlier sentence): the actor then goes unnamed rather than wrong
        able = [i for i, m in enumerate(marks)
                if not (m.particle in ("에", "에게") and own[i].kind in ("with", "obj"))]
        before = [i for i in able if parties[i].start < trigger_start and roles[i] != "location"]
        if before or able:
            roles[(before or able)[0]] = "actor"
    out: dict[str, str] = {}
    rank = {"actor": 0, "target": 1, "location": 2}
    for party, role in zip(parties, roles, strict=True):
        if party.key not in out or rank[role] < rank[out[party.key]]:
            out[party.key] = role
    return list(out.items())


def quote_spans(text: str) -> list[tuple[int, int]]:
    """Spans of direct speech ("..." and “...”); single quotes mark names, not speech."""
    spans = []
    for m in re.finditer(r"“[^”]*”|\"[^\"]*\"", text):
        spans.append((m.start(), m.end()))
    return spans


def inside(position: int, spans: list[tuple[int, int]]) -> tuple[int, int] | None:
    for a, b in spans:
        if a <= position < b:
            return a, b
    return None
