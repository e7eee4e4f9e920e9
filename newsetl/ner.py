"""Statistical recognizer of person, organization and location names (KLUE's PS/OG/LC) in Korean sentences.

A linear-chain CRF (python-crfsuite) labels kiwi morphemes BILOU, using their forms, tags, shapes, word
clusters and contexts from kiwi's language model, title and suffix cues and gazetteer matches as features.
It finds the names no reference list has; newsetl.entities links what it finds. The weights
(models_data/ner.crfsuite), the clusters (ner_clusters.tsv) and the context basis (ner_context.tsv) load
on first use.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import os
import re
import sys
import threading
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

MODEL_PATH = Path(__file__).resolve().parent / "models_data" / "ner.crfsuite"
# Word clusters from kiwi's own language model (see scripts/train_ner.py --clusters): a name the training
# sentences never had still shares a cluster with ones they had (부산 with 광주, 구글 with 네이버)
CLUSTERS_PATH = MODEL_PATH.parent / "ner_clusters.tsv"
# Fixed morphemes of kiwi's vocabulary (scripts/train_ner.py --clusters): a unit's context, as kiwi's own
# language model embeds it, is described by the few of these it is nearest to. The slot a name fills
# ('... 에 따르면 X는', '주자 X를') shows what it is even when the name itself is new.
CONTEXT_PATH = MODEL_PATH.parent / "ner_context.tsv"
CONTEXT_NEAREST = 3
LABELS = ("PS", "OG", "LC")

# KLUE tags a surname with 씨/모/군/양 as a person (<박:PS>씨); these units mark that context.
PERSON_TAILS = frozenset({"씨", "모", "군", "양", "씨는", "씨가", "씨의", "씨를", "씨와", "씨에게"})
TITLE_WORDS = frozenset((
    "대통령", "부통령", "총리", "부총리", "국무총리", "장관", "차관", "차관보", "주석", "실장", "수석", "비서관",
    "대변인", "의장", "위원장", "위원", "의원", "대사", "청장", "처장", "원장", "본부장", "국장", "과장", "소장",
    "교수", "박사", "회장", "부회장", "사장", "부사장", "대표", "이사", "이사장", "총재", "사무총장", "총장", "지사",
    "시장", "군수", "구청장", "도지사", "후보", "감독", "선수", "씨", "여사", "전무", "상무", "변호사", "판사",
    "검사", "특사", "고문", "단장", "팀장", "기자", "앵커", "작가", "배우", "가수", "코치", "대위", "중위", "소령",
    "중령", "대령", "장군", "원내대표", "최고위원", "비대위원장", "대표이사", "CEO", "의사", "간호사", "경감",
    "경위", "경사", "총경", "서장", "교사", "학생", "군", "양", "모", "씨", "측", "부장", "차장", "지검장",
    "검사장", "당선인", "당선자", "후보자", "전", "현", "前", "現", "대표팀", "주장",
))
ORG_TAILS = ("부", "청", "처", "원", "위원회", "위", "그룹", "전자", "통신", "은행", "증권", "공사", "공단", "협회",
             "재단", "대학교", "대학", "학교", "일보", "신문", "방송", "연구소", "연구원", "센터", "본부", "당", "회",
             "사", "社", "기구", "연합", "법원", "지검", "경찰서", "병원", "구단", "FC", "팀", "홀딩스", "화학", "건설",
             "자동차", "중공업", "에너지", "제약", "바이오", "생명", "보험", "카드", "닷컴", "엔터테인먼트")
LOC_TAILS = ("시", "도", "군", "구", "동", "읍", "면", "리", "로", "길", "역", "항", "산", "강", "섬", "만", "해",
             "주", "성", "공항", "광장", "공원", "대로", "반도", "대륙", "해협", "지역", "마을", "단지")

_lock = threading.Lock()
_tagger = None
_tagger_key = None
_clusters: dict[tuple[str, str] | str, tuple[str, str]] | None = None
_context: tuple | None = None
_context_cache: dict[tuple[int, ...], tuple[str, ...]] = {}
CONTEXT_CACHE_ENTRIES = 100_000  # bounded: ~30 MB
CONTEXT_CACHE_WRITE_STEP = 2_000  # new look-ups (~0.06 s to compute) worth writing the file again for
_context_cache_stored = 0  # entries of _context_cache that its file held when read or last written


def clusters() -> dict[tuple[str, str] | str, tuple[str, str]]:
    """(form, tag) and bare form -> (coarse, fine) cluster ids, read on first use; empty without the file."""
    global _clusters
    if _clusters is None:
        with _lock:
            if _clusters is None:
                table: dict = {}
                if CLUSTERS_PATH.exists():
                    for line in CLUSTERS_PATH.read_text(encoding="utf-8").splitlines():
                        form, tag, coarse, fine = line.split("\t")
                        table[(form, tag)] = (coarse, fine)
                        table.setdefault(form, (coarse, fine))
                _clusters = table
    return _clusters


def lm_vocabulary(k) -> int:
    """How many of kiwi's morphemes (the first, most frequent ids) its language model has vectors for."""
    lo, hi = 0, 1024
    while k.most_similar_morphemes(hi, top_n=1):
        lo, hi = hi, hi * 2
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if k.most_similar_morphemes(mid, top_n=1) else (lo, mid)
    return lo + 1


def context_model() -> tuple | None:
    """(morpheme ids by (form, tag), basis ids), read on first use; None without the basis file.

    Morphemes past the language model's vocabulary, and unknown ones (a new name), stand as their bare tag.
    """
    global _context
    if _context is None:
        with _lock:
            if _context is None:
                if not CONTEXT_PATH.exists():
                    _context = ()
                else:
                    from newsetl.nlp import kiwi

                    k = kiwi()
                    ids: dict[tuple[str, str], int] = {}
                    for i in range(lm_vocabulary(k)):
                        m = k.morpheme(i)
                        ids.setdefault((m.form, str(m.tag)), i)  # ids below 60 are the bare tags ('', NNP)
                    basis = [ids[(form, tag)] for form, tag in
                             (line.split("\t") for line in CONTEXT_PATH.read_text(encoding="utf-8").splitlines())]
                    _context = (ids, tuple(basis))
                    _read_context_cache()
    return _context or None


def context_cache_file() -> Path:
    """The file the context look-ups persist in between processes, named by everything a look-up depends on:
    kiwi and its model (the language model), the basis and this module (how the nearest are chosen), and
    Python's version (marshal's format is its own)."""
    digest = hashlib.sha256(f"python={sys.version_info[:2]}\n".encode())
    for package in ("kiwipiepy", "kiwipiepy_model"):
        try:
            digest.update(f"{package}={metadata.version(package)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package}=?\n".encode())
    digest.update(CONTEXT_PATH.read_bytes())
    digest.update(Path(__file__).read_bytes())
    from newsetl.config import cache_dir

    return cache_dir() / f"ner-contexts-{digest.hexdigest()[:16]}.marshal"


def _read_context_cache() -> None:
    """Start the context look-ups from the file an earlier process wrote: a new worker otherwise computes each
    again (~15k for 84 new articles: their analysis took 2.80 s, against 2.22 s with 31k look-ups read), where
    a loaded one finds most of them. Reading 100k takes ~0.06 s.
    marshal, not pickle: it builds only plain values, never runs code. A file that does not read as look-ups
    is left alone, and the look-ups are computed as before."""
    global _context_cache_stored
    try:
        loaded = marshal.loads(context_cache_file().read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return
    if not isinstance(loaded, dict) or not all(
            type(key) is tuple and type(near) is tuple and len(near) <= CONTEXT_NEAREST for key, near in loaded.items()):
        return
    _context_cache.update(list(loaded.items())[:CONTEXT_CACHE_ENTRIES - len(_context_cache)])
    _context_cache_stored = len(_context_cache)


def save_context_cache() -> None:
    """Write the context look-ups for the next process once they have grown by a quarter (and by
    CONTEXT_CACHE_WRITE_STEP) since read or last written: a large analysis writes a few times (~0.02 s for
    100k), a small one that found them read, never."""
    global _context_cache_stored
    size = len(_context_cache)
    if not _context or size < max(_context_cache_stored * 1.25, _context_cache_stored + CONTEXT_CACHE_WRITE_STEP):
        return
    path = context_cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps(dict(_context_cache)))
        os.replace(tmp, path)  # whole or not at all, whichever worker writes last
    except OSError:
        return  # a cache that cannot be written only makes the next small run slower
    _context_cache_stored = size


def _contexts(us: list[Unit]) -> list[tuple[str, ...]]:
    """Per unit, the basis morphemes nearest to three contexts in kiwi's language model: the unit after the
    two before it (cxa), the three before it without it (cxb: the slot), and the unit between its neighbours
    (cxn)."""
    model = context_model()
    if not model:
        return [()] * len(us)
    from newsetl.nlp import kiwi

    ids, basis = model
    k = kiwi()  # the process's analyzer, not a reference that outlives nlp.release()
    # kiwipiepy's Python wrapper checks and converts both contexts on every call; they are lists of
    # morpheme ids already, which its compiled base class takes as they are (0.24 µs a call instead of 0.58)
    raw = getattr(type(k).__mro__[1], "context_similarity", None)
    sim = functools.partial(raw, k) if raw is not None else k.context_similarity
    seq = [ids.get((u.text, u.tag)) or ids.get(("", u.tag), 0) for u in us]
    cache = _context_cache
    out = []
    for i in range(len(us)):
        f: list[str] = []
        for name, ctx in (("cxa=", seq[max(0, i - 2):i + 1]), ("cxb=", seq[max(0, i - 3):i]),
                          ("cxn=", seq[max(0, i - 1):i + 2])):
            if not ctx:
                continue
            key = tuple(ctx)
            near = cache.get(key)
            if near is None:
                sims = [sim(ctx, [b]) for b in basis]
                near = tuple(sys.intern(str(j)) for j in sorted(range(len(sims)), key=lambda j: -sims[j])[:CONTEXT_NEAREST])
                if len(cache) < CONTEXT_CACHE_ENTRIES:
                    cache[key] = near
            f += [name + j for j in near]
        out.append(tuple(f))
    return out


def _cluster_of(table: dict, form: str, tag: str) -> tuple[str, str] | None:
    """A unit's (coarse, fine) clusters: its form with this tag, else the form with any tag."""
    return table.get((form, tag)) or table.get(form)


class Unit(NamedTuple):
    start: int  # offsets into the sentence
    end: int
    text: str
    tag: str


def units(text: str, tokens: list[tuple[int, int, str]], cuts: set[int] | frozenset[int] = frozenset()) -> list[Unit]:
    """Labelling units: kiwi morphemes (start, end, tag) merged where they overlap, split at inner punctuation
    and at `cuts` (offsets where a listed name begins or ends inside a morpheme).

    Country compounds (한·미·일 as one NNP) and middle dots inside a morpheme become one unit per letter
    so that each member can carry its own label.
    """
    spans: list[list] = []
    for s, e, tag in tokens:
        if e <= s:
            continue
        if spans and s < spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], e)  # contracted morphemes (했 = 하+었) share characters
            continue
        spans.append([s, e, tag])
    if cuts:
        split = []
        for s, e, tag in spans:
            inner = sorted(c for c in cuts if s < c < e) if e - s > 1 else ()
            for a, b in zip((s, *inner), (*inner, e), strict=True):
                split.append([a, b, tag])
        spans = split
    out: list[Unit] = []
    for s, e, tag in spans:
        piece = text[s:e]
        if len(piece) > 1 and _INNER_SPLIT.search(piece):
            for m in _PIECES.finditer(piece):
                sub = m.group()
                if sub.isspace():
                    continue
                out.append(Unit(s + m.start(), s + m.end(), sub, tag if sub.isalnum() else "SP"))
        else:
            out.append(Unit(s, e, piece, tag))
    return out


SPORT_WORDS = frozenset((
    "승점", "경기", "골", "득점", "실점", "대표팀", "월드컵", "올림픽", "리그", "결승", "준결승", "예선", "친선", "세트",
    "금메달", "은메달", "동메달", "메달", "선수", "무승부", "우승", "골키퍼", "대회", "조별", "선수단", "평가전",
))
_QUOTES = frozenset("'\"‘’“”「」『』《》<>")
_INNER_SPLIT = re.compile(r"[·ㆍ‧・,\s()'\"-]")
_PIECES = re.compile(r"[^·ㆍ‧・,\s()'\"-]+|[·ㆍ‧・,\s()'\"-]")


def _shape(w: str) -> str:
    out = []
    for c in w:
        if "가" <= c <= "힣":
            k = "H"
        elif c.isdigit():
            k = "D"
        elif "A" <= c <= "Z":
            k = "L"
        elif "a" <= c <= "z":
            k = "l"
        elif "\u4e00" <= c <= "\u9fff":
            k = "C"
        else:
            k = "P"
        if not out or out[-1] != k:
            out.append(k)
    return "".join(out)


_STATIC: dict[tuple[str, str], tuple[str, ...]] = {}


def _static(w: str, t: str, surnames: frozenset[str]) -> tuple[str, ...]:
    """Features of a unit by itself (form, tag, shape, affixes, name and suffix cues), cached: units repeat."""
    key = (w, t)
    hit = _STATIC.get(key)
    if hit is not None:
        return hit
    f = ["b", "w=" + w, "t=" + t, "sh=" + _shape(w), "p1=" + w[0], "s1=" + w[-1], "len=" + str(min(len(w), 6))]
    if len(w) > 1:
        f += ("s2=" + w[-2:], "p2=" + w[:2])
    if len(w) > 2:
        f += ("s3=" + w[-3:], "p3=" + w[:3])
    if len(w) == 3:
        f.append("m1=" + w[1])  # the middle syllable, a given name's first ('장성택')
    if "가" <= w[0] <= "힣":
        if len(w) == 1 and w in surnames:
            f += ("sur1", "sur1|" + t)
        elif 2 <= len(w) <= 4 and w[0] in surnames:
            f += ("sur", "sur|" + t)
    c = _cluster_of(_clusters, w, t) if _clusters else None  # loaded by features(), the only caller
    if c:
        f += ("c6=" + c[0], "c9=" + c[1], "c9|t=" + c[1] + "|" + t)
    for tail in ORG_TAILS:
        if w.endswith(tail) and len(w) > len(tail):
            f.append("otail=" + tail)
            break
    for tail in LOC_TAILS:
        if w.endswith(tail) and len(w) > len(tail):
            f.append("ltail=" + tail)
            break
    out = tuple(f)
    if len(_STATIC) < 500_000:  # bounded: a long backfill meets new words forever
        _STATIC[key] = out
    return out


def features(text: str, us: list[Unit], gaz: list[str], surnames: frozenset[str]) -> list[list[str]]:
    """One feature list per unit; `gaz` holds a gazetteer label per unit (B-OG, I-LC, O...)."""
    n = len(us)
    table = clusters()
    words = [u.text for u in us]
    tags = [u.tag for u in us]
    tlen = len(text)
    space_before = [u.start == 0 or text[u.start - 1].isspace() for u in us]
    space_after = [u.end >= tlen or text[u.end].isspace() for u in us]
    # the eojeol (space-separated word) each unit sits in: its first and last unit
    first_of, last_of = [0] * n, [0] * n
    lo = 0
    for i in range(n):
        if i and space_before[i]:
            for k in range(lo, i):
                last_of[k] = i - 1
            lo = i
        first_of[i] = lo
    for k in range(lo, n):
        last_of[k] = n - 1
    coarse = ["<s>"]
    for u in us:
        c = _cluster_of(table, u.text, u.tag)
        coarse.append(c[0] if c else "-")
    coarse.append("</s>")
    W = ["<s>", "<s>", *words, "</s>", "</s>"]
    T = ["<s>", "<s>", *tags, "</s>", "</s>"]
    G = ["<s>", *gaz, "</s>"]
    # the noun stem of each eojeol (its units before the first particle or ending): '남양주경찰서'
    stem_of = [""] * n
    name_of: list[tuple[str, ...]] = [()] * n
    i = 0
    while i < n:
        hi = last_of[i]
        k = i
        while k <= hi and tags[k][0] not in "JEV":
            k += 1
        stem = "".join(words[i:k])
        for j in range(i, hi + 1):
            stem_of[j] = stem
        if k > i and 2 <= len(stem) <= 4 and stem[0] in surnames and all("가" <= c <= "힣" for c in stem):
            # a stem shaped like a Korean name, however kiwi cut it (이/MM 건/NNG 범/NNG): its given-name
            # syllables and what follows it
            size = str(len(stem))
            cue = ("kn" + size, "kn|" + size + "|" + (tags[k] if k <= hi else "-"), "kn|nu=" + str(k - i),
                   *("gn=" + c for c in stem[1:]))
            for j in range(i, k):
                name_of[j] = cue
        i = hi + 1
    quoted = [False] * n
    inside = False
    for i in range(n):
        if words[i] in _QUOTES:
            inside = not inside
        elif inside:
            quoted[i] = True
    # the predicate an eojeol's name serves ('미국이 ... 발표했다': the acting government, '미국에 ... 갔다': the
    # place): the first verb or verbal noun in the next four eojeols, read once per eojeol
    pred_of = [""] * n
    i = 0
    while i < n:
        hi = last_of[i]
        k, words_seen, pred = hi + 1, 0, ""
        while k < n and words_seen < 4:
            tk = tags[k]
            if tk in ("VV", "VA", "XSV"):
                pred = words[k - 1] if tk == "XSV" and k > 0 and tags[k - 1] == "NNG" else words[k]
                break
            if tk == "SF":
                break
            if k == last_of[k]:
                words_seen += 1
            k += 1
        for j in range(i, hi + 1):
            pred_of[j] = pred
        i = hi + 1
    # a sports report: KLUE reads a country there as its team (<한국:OG>이 승점 4), elsewhere as a place
    sport = "sp|" if not SPORT_WORDS.isdisjoint(words) else ""
    contexts = _contexts(us)
    feats: list[list[str]] = []
    for i in range(n):
        w, t, g = words[i], tags[i], gaz[i]
        pw, pt, nw, nt = W[i + 1], T[i + 1], W[i + 3], T[i + 3]
        f = list(_static(w, t, surnames))
        f += name_of[i]
        f += contexts[i]
        f += (
            "pw=" + pw, "pt=" + pt, "nw=" + nw, "nt=" + nt, "ppt=" + T[i], "nnt=" + T[i + 4],
            "pt|t=" + pt + "|" + t, "t|nt=" + t + "|" + nt, "pw|w=" + pw + "|" + w, "w|nw=" + w + "|" + nw,
            "g=" + g, "pg=" + G[i], "ng=" + G[i + 2], "g|t=" + g + "|" + t, "pw2=" + W[i], "nw2=" + W[i + 4],
            "pc6=" + coarse[i], "nc6=" + coarse[i + 2],
        )
        if sport and g.endswith("CT"):
            f.append("sport")
        lo, hi = first_of[i], last_of[i]
        stem = stem_of[i]
        if stem and len(stem) > len(w):
            f += ("es=" + stem, "es1=" + stem[-1], "es2=" + stem[-2:])
        if quoted[i]:
            f.append("q")
        f += ("w|t=" + w + "|" + t, "nt|nnt=" + nt + "|" + T[i + 4], "ppt|pt=" + T[i] + "|" + pt)
        f.append("ep=" + ("S" if lo == hi else "B" if i == lo else "E" if i == hi else "M"))
        f.append("wt=" + "+".join(tags[lo:hi + 1]))
        ej = words[hi] if hi != i and tags[hi][0] == "J" else "-"
        if ej != "-":
            f.append("ej=" + ej)
        if pred_of[i]:
            f += ("vp=" + pred_of[i], "ej|vp=" + ej + "|" + pred_of[i])
        if g[-2:] in ("CT", "LC", "OG"):
            # a listed name's role in this sentence: its particle, the words around it, what it does
            k = g[-2:]
            f += (k + "|ej=" + ej, k + "|nwf=" + (words[hi + 1] if hi + 1 < n else "</s>"),
                  k + "|pwl=" + (words[lo - 1] if lo > 0 else "<s>"), k + "|vp=" + pred_of[i])
        if hi + 1 < n:
            f += ("nwf=" + words[hi + 1], "nwt=" + tags[hi + 1])
        if lo > 0:
            f += ("pwl=" + words[lo - 1], "pwt=" + tags[lo - 1])
        if space_before[i]:
            f.append("sb")
        if space_after[i]:
            f += ("sa", "sa|t=" + t)
        if nw in TITLE_WORDS or (i + 2 < n and space_after[i] and words[i + 2] in TITLE_WORDS):
            f.append("ntitle")
        if nw in PERSON_TAILS:
            f.append("ntail")
        if pw in TITLE_WORDS:
            f.append("ptitle")
        feats.append(f)
    return feats


def labels_for(us: list[Unit], spans: list[tuple[int, int, str]]) -> list[str]:
    """BILOU labels of units from gold (start, end, tag) spans; a unit overlapping a span joins it.

    U- marks a one-unit name and L- the last unit of a longer one: the model learns where names end,
    which BIO leaves to the next label.
    """
    out = ["O"] * len(us)
    for s, e, tag in spans:
        inside = [i for i, u in enumerate(us) if u.end > s and u.start < e]
        if len(inside) == 1:
            out[inside[0]] = "U-" + tag
        elif inside:
            out[inside[0]] = "B-" + tag
            for i in inside[1:-1]:
                out[i] = "I-" + tag
            out[inside[-1]] = "L-" + tag
    return out


def decode(us: list[Unit], labels: list[str]) -> list[tuple[int, int, str]]:
    """Spans (start, end, tag) from BILOU (or BIO) labels; an I or L without a B starts a span."""
    spans: list[tuple[int, int, str]] = []
    cur: list | None = None
    for u, lab in zip(us, labels, strict=True):
        if lab == "O":
            if cur:
                spans.append(tuple(cur))
            cur = None
            continue
        kind, tag = lab[0], lab[2:]
        if kind in "BU" or cur is None or cur[2] != tag:
            if cur:
                spans.append(tuple(cur))
            cur = [u.start, u.end, tag]
        else:
            cur[1] = u.end
        if kind in "UL":
            spans.append(tuple(cur))
            cur = None
    if cur:
        spans.append(tuple(cur))
    return spans


def tagger(path: Path | None = None):
    """The process's CRF tagger, opened on first use; None when no weights file exists."""
    global _tagger, _tagger_key
    path = path or Path(os.environ.get("NEWSETL_NER_MODEL", MODEL_PATH))
    key = (str(path), os.getpid())
    with _lock:
        if _tagger_key != key:
            if not path.exists():
                _tagger, _tagger_key = None, key
                return None
            import pycrfsuite

            t = pycrfsuite.Tagger()
            t.open(str(path))
            _tagger, _tagger_key = t, key
        return _tagger


def predict(text: str, us: list[Unit], gaz: list[str], surnames: frozenset[str],
            model=None) -> list[tuple[int, int, str, float]]:
    """Name spans (start, end, PS|OG|LC, confidence) the model finds in one sentence.

    The confidence is the lowest marginal probability of the span's labels: how sure the model is
    of every part of the name.
    """
    model = model or tagger()
    if model is None or not us:
        return []
    labels = model.tag(features(text, us, gaz, surnames))
    if all(lab == "O" for lab in labels):
        return []
    out = []
    i = 0
    for s, e, tag in decode(us, labels):
        while us[i].start < s:
            i += 1
        conf = 1.0
        while i < len(us) and us[i].end <= e:
            conf = min(conf, model.marginal(labels[i], i))
            i += 1
        out.append((s, e, tag, conf))
    return out
