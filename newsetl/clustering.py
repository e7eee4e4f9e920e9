"""Event candidates clustered into real-world events: one event however many sentences and articles report it.

Candidates are one event when they have the same type, agreeing participants and compatible dates,
or when re-posted articles carry the very same sentence. A headline or an undated later mention joins
the event it restates in its own article and never makes one of its own.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from datetime import date

import polars as pl

from newsetl.event_roles import SYMMETRIC

_PRECISION_RANK = {"day": 0, "month": 1, "year": 2, "none": 3}
_DIGITS = {"year": 4, "month": 7, "day": 10}
_GOODS_PREFIXES = ("commodity:", "tech:", "new:commodity:", "new:technology:")
_REPOST_DAYS = 3  # a re-post follows its source within days


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class _UnionFind:
    """Union-find whose clusters keep the days they are dated to: two clusters dated to different days
    never join, so a month-precise mention cannot chain the 7th and the 10th into one event."""

    def __init__(self, rows: list[dict]) -> None:
        self.parent = list(range(len(rows)))
        self.days = [{r["event_date"]} if r["event_date"] is not None and r["date_precision"] == "day" else set()
                     for r in rows]

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> bool:
        a, b = self.find(i), self.find(j)
        if a == b:
            return True
        if self.days[a] and self.days[b] and self.days[a] != self.days[b]:
            return False
        root, child = min(a, b), max(a, b)
        self.parent[child] = root
        self.days[root] |= self.days[child]
        return True


def _roles(row: dict) -> tuple[set[str], set[str]]:
    actors = {p["entity_key"] for p in row["participants"] if p["role"] == "actor"}
    targets = {p["entity_key"] for p in row["participants"] if p["role"] == "target"}
    return actors, targets


def participants_agree(a: dict, b: dict) -> bool:
    """Same parties: shared actors (and targets, when both name one) for directed types, two shared sides
    (or all of the smaller side) for joint ones. A party's country counts for it ('러몬도 상무장관' and
    '미국'), through the affiliations column. Goods named by both must overlap: a control on gallium is
    not one on antimony; stated places and figures must meet too.
    """
    ta, tb = _goods(a), _goods(b)
    if a["event_type"] != "CONSULT" and ta and tb and not ta & tb:
        return False
    la, lb = _places(a), _places(b)
    if la and lb and not la & lb:
        return False  # a meeting in Beijing is not the one in Osaka
    fa, fb = set(a.get("figures") or ()), set(b.get("figures") or ())
    if fa and fb and not fa & fb:
        return False  # a 10% tariff and a 50% tariff are two measures
    (aa, at), (ba, bt) = _roles(a), _roles(b)
    if a["event_type"] in SYMMETRIC:
        pa, pb = aa | at, ba | bt
        ca, cb = set(a["affiliations"] or ()), set(b["affiliations"] or ())
        shared = max(len(pa & pb), len(ca & cb))
        return shared > 0 and shared >= min(2, max(len(pa), len(ca)), max(len(pb), len(cb)))
    actors_a = aa | set(a["affiliations"] or ())
    actors_b = ba | set(b["affiliations"] or ())
    if not actors_a & actors_b:
        return False
    return not at or not bt or bool(at & bt)


def _places(row: dict) -> set[str]:
    return {p["entity_key"] for p in row["participants"] if p["role"] == "location"}


def _goods(row: dict) -> set[str]:
    """Commodities and technologies the mention names (programmes and frameworks are not goods)."""
    return {p["entity_key"] for p in row["participants"] if p["role"] == "topic"
            and p["entity_key"].startswith(_GOODS_PREFIXES)}


def dates_agree(a: dict, b: dict) -> bool:
    """Both resolved and equal at the coarser precision, which must be a day or a month."""
    if a["event_date"] is None or b["event_date"] is None:
        return False
    coarse = max(a["date_precision"], b["date_precision"], key=lambda p: _PRECISION_RANK.get(p, 3))
    if coarse not in ("day", "month"):
        return a["date_precision"] == b["date_precision"] == "year" and a["event_date"] == b["event_date"] \
            and a["article_id"] == b["article_id"]
    n = _DIGITS[coarse]
    if str(a["event_date"])[:n] != str(b["event_date"])[:n]:
        return False
    # '이달 말' is a month to the date resolver, but not the 10th
    for month, day in ((a, b), (b, a)):
        if month["date_precision"] == "month" and day["date_precision"] == "day":
            lo, hi = _part_of_month(month["date_text"])
            if not lo <= day["event_date"].day <= hi:
                return False
    return True


def _dates_conflict(a: dict, b: dict) -> bool:
    """Both dated, and to different periods at the coarser precision ('내년' and '내년' agree)."""
    if a["event_date"] is None or b["event_date"] is None:
        return False
    coarse = max(a["date_precision"], b["date_precision"], key=lambda p: _PRECISION_RANK.get(p, 3))
    n = _DIGITS.get(coarse, 10)
    return str(a["event_date"])[:n] != str(b["event_date"])[:n]


def _part_of_month(date_text: str | None) -> tuple[int, int]:
    words = "".join((date_text or "").split())
    for suffix, span in (("초순", (1, 10)), ("상순", (1, 10)), ("중순", (11, 20)), ("하순", (21, 31)),
                         ("초", (1, 10)), ("말", (21, 31))):
        if words.endswith(suffix):
            return span
    return 1, 31


def _factual(row: dict) -> bool:
    return not (row["is_negated"] or row["is_hypothetical"])


def _overlap(a: dict, b: dict) -> int:
    pa = {p["entity_key"] for p in a["participants"] if p["role"] in ("actor", "target")} | set(a["affiliations"] or ())
    pb = {p["entity_key"] for p in b["participants"] if p["role"] in ("actor", "target")} | set(b["affiliations"] or ())
    return len(pa & pb)


def cluster_events(candidates: pl.DataFrame) -> pl.DataFrame:
    """Give each candidate an event_id (candidates of one real-world event share it) and mark its primary mention.

    Headline candidates that restate no event of their article are dropped. Adds event_id, is_primary
    (the mention whose date, status and mode the event takes) and event_status.
    """
    # Python rows carry what the rules compare, and a hash of the evidence's words instead of the sentence;
    # the output is the input frame with three columns added: at 100k articles, 277k full rows as dicts
    # (and a second frame built from them) took 1.3 GB.
    words = pl.col("evidence").str.replace_all(r"\s+", " ").str.strip_chars()
    rows = _rows(candidates.select(
        pl.exclude("evidence", "trigger_id", "trigger_text", "context", "contexts"),
        words.str.len_chars().alias("words_chars"), words.hash().alias("words_hash"),
    ))
    uf = _UnionFind(rows)
    by_article: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_article[r["article_id"]].append(i)
    _same_sentence(rows, by_article, uf)
    _same_words(rows, uf)
    _same_event(rows, uf)
    _same_date_words(rows, by_article, uf)
    keep = _attach_undated(rows, by_article, uf)
    return _assign(candidates, rows, keep, uf)


def _rows(frame: pl.DataFrame) -> list[dict]:
    """The frame as row dicts whose repeated values are shared objects: an article id, a type, a date or a
    participant appears once in memory, not once per row (at 100k articles, 277k rows: peak 1.72 -> 1.0 GB).
    Lists become tuples; nothing here changes a row's values."""
    names = frame.columns  # once: each call makes new name strings, and 20 per row took 320 MB at 100k articles
    columns = []
    for name in names:
        values = frame.get_column(name).to_list()
        shared: dict = {}  # per column: True == 1 across types, never within one
        if name == "participants":
            values = [tuple(shared.setdefault((p["entity_key"], p["role"]), p) for p in parts) if parts else ()
                      for parts in values]
        elif frame.schema[name] == pl.List:
            values = [None if v is None else shared.setdefault(tuple(v), tuple(v)) for v in values]
        elif frame.schema[name] in (pl.String, pl.Date):
            values = [None if v is None else shared.setdefault(v, v) for v in values]
        columns.append(values)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _same_sentence(rows: list[dict], by_article: dict[str, list[int]], uf: _UnionFind) -> None:
    """Clauses of one sentence reporting one event ('회담을 갖고, … 논의했다')."""
    for members in by_article.values():
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i in members:
            groups[(rows[i]["sentence_idx"], rows[i]["event_type"], _factual(rows[i]))].append(i)
        for group in groups.values():
            for x, i in enumerate(group):
                for j in group[x + 1:]:
                    ai, aj = _roles(rows[i])[0], _roles(rows[j])[0]
                    if ai & aj or not ai or not aj:
                        uf.union(i, j)


def _same_words(rows: list[dict], uf: _UnionFind) -> None:
    """Re-posts and repeated paragraphs carry the very same sentence: one event, whatever the dates say.

    Short stock sentences recur in unrelated articles, so a copy counts only within its own article, in an
    article published within days of it, or in one that shares another sentence with it (a re-post whose
    publication date is unknown); and never when both dates are resolved and differ.
    """
    seen: dict[tuple, list[int]] = defaultdict(list)
    shared: dict[tuple[str, str], int] = defaultdict(int)  # article pair -> identical sentences
    for i, r in enumerate(rows):
        if r["words_chars"] >= 20 and not r["is_title"] and not r["is_anaphoric"]:
            seen[(r["event_type"], r["trigger_start"], r["words_hash"])].append(i)
    for members in seen.values():
        for pair in {tuple(sorted((rows[i]["article_id"], rows[j]["article_id"]))) for x, i in enumerate(members)
                     for j in members[x + 1:]}:
            shared[pair] += 1
    for members in seen.values():
        for x, i in enumerate(members):
            for j in members[x + 1:]:
                a, b = rows[i], rows[j]
                pa, pb = a["published_date"], b["published_date"]
                if a["article_id"] == b["article_id"]:
                    close = True
                elif pa is not None and pb is not None:
                    close = abs((pa - pb).days) <= _REPOST_DAYS
                else:
                    close = shared[tuple(sorted((a["article_id"], b["article_id"])))] >= 2
                if close and not _dates_conflict(a, b):
                    uf.union(i, j)


def _same_event(rows: list[dict], uf: _UnionFind) -> None:
    """Reports of one event in any articles: same type, agreeing participants, compatible resolved dates.

    Blocking keeps this near-linear: only candidates of one type that share a party and a month are compared.
    """
    blocks: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        if r["event_date"] is None or r["is_title"] or r["is_anaphoric"] or r["date_precision"] not in ("day", "month", "year"):
            continue
        period = (r["event_date"].year,) if r["date_precision"] == "year" else (r["event_date"].year, r["event_date"].month)
        parties = {p["entity_key"] for p in r["participants"] if p["role"] == "actor"} | set(r["affiliations"] or ())
        for party in sorted(parties):  # sorted: a set's order changes with each process's string hashing
            blocks[(r["event_type"], _factual(r), party, period)].append(i)
    for members in blocks.values():
        for i, later in _comparable_pairs(rows, members):
            for j in later:
                a, b = rows[i], rows[j]
                if uf.find(i) == uf.find(j) or not dates_agree(a, b) or not participants_agree(a, b):
                    continue
                # an article that states two dated events names each; restating one, it repeats its actors
                if a["article_id"] == b["article_id"] and _roles(a) != _roles(b):
                    continue
                uf.union(i, j)


def _comparable_pairs(rows: list[dict], members: list[int]) -> Iterator[tuple[int, list[int]]]:
    """Each member of a block with the later members that may report its event, in block order.

    Mentions of two modes (a ban and a tariff) never join, nor do two dated to different days
    (dates_agree): a day-precise member meets only the later ones of its mode and day, and those of
    its mode dated to a month or a year. At 100k articles a block holds hundreds of members, and this
    leaves 2.2 M of the 12.5 M pairs. The pairs kept come in the order the full comparison would take
    them, so the clusters are the same.
    """
    position = {i: x for x, i in enumerate(members)}
    family = {i: _mode_family(rows[i]) for i in members}
    same_day: dict[tuple[str, date], list[int]] = defaultdict(list)
    loose: dict[str, list[int]] = defaultdict(list)  # month- or year-precise: any later member of the mode
    for i in members:
        if rows[i]["date_precision"] == "day":
            same_day[family[i], rows[i]["event_date"]].append(i)
        else:
            loose[family[i]].append(i)
    for i in members:
        after = position[i]
        if rows[i]["date_precision"] != "day":
            yield i, [j for j in members[after + 1:] if family[j] == family[i]]
            continue
        later = [j for j in same_day[family[i], rows[i]["event_date"]] if position[j] > after]
        others = [j for j in loose[family[i]] if position[j] > after]
        yield i, sorted(later + others, key=position.__getitem__) if later and others else later or others


def _same_date_words(rows: list[dict], by_article: dict[str, list[int]], uf: _UnionFind) -> None:
    """Without a publication date, '같은 달 말' stays unresolved: within an article, the same words, type
    and parties are the same event."""
    for members in by_article.values():
        open_dates = [i for i in members if rows[i]["event_date"] is None and rows[i]["date_text"]
                      and not rows[i]["is_title"] and not rows[i]["is_anaphoric"]]
        for x, i in enumerate(open_dates):
            for j in open_dates[x + 1:]:
                a, b = rows[i], rows[j]
                if (_mode_family(a) == _mode_family(b) and _factual(a) == _factual(b)
                        and "".join(a["date_text"].split()) == "".join(b["date_text"].split())
                        and participants_agree(a, b)):
                    uf.union(i, j)


def _mode_family(row: dict) -> str:
    """Kinds of one event type that a later undated mention may use for the same event."""
    if row["event_type"] == "CONSULT" and row["mode"] in ("meeting", "visit", "talks"):
        return "CONSULT:meeting"
    return f"{row['event_type']}:{row['mode']}"


def _attach_undated(rows: list[dict], by_article: dict[str, list[int]], uf: _UnionFind) -> set[int]:
    """Headlines, back-references ('이번 회담') and undated mentions join the event of their article they
    share most parties with.

    A headline restates the lead, so it prefers the earliest event; a body mention prefers the nearest
    earlier one, of the same kind (an undated '수출 통제' is not the dated '수출 금지'). Background joins
    background only. Headlines and back-references that join nothing are dropped.
    """
    keep = set(range(len(rows)))
    for members in by_article.values():
        def echo(k: int) -> bool:
            return rows[k]["is_title"] or rows[k]["is_anaphoric"]
        anchored = [i for i in members if not echo(i) and (rows[i]["event_date"] is not None or rows[i]["date_text"])]
        loose = [i for i in members if echo(i) or rows[i]["event_date"] is None and not rows[i]["date_text"]]
        for i in sorted(loose, key=lambda k: (not rows[k]["is_title"], rows[k]["sentence_idx"])):
            r = rows[i]
            pool = anchored + [j for j in loose if j != i and not echo(j)] if echo(i) else anchored
            options = []
            for j in pool:
                o = rows[j]
                if (o["event_type"] != r["event_type"] or _factual(o) != _factual(r)
                        or not echo(i) and (_mode_family(o) != _mode_family(r) or o["is_background"] != r["is_background"])):
                    continue
                shared = _overlap(r, o)
                if shared and participants_agree(r, o):
                    distance = o["sentence_idx"] if r["is_title"] else (
                        r["sentence_idx"] - o["sentence_idx"] if o["sentence_idx"] <= r["sentence_idx"]
                        else 1000 + o["sentence_idx"] - r["sentence_idx"])
                    options.append((-shared, distance, j))
            if options:
                uf.union(i, min(options)[2])
            elif echo(i):
                keep.discard(i)
    return keep


def _primary_key(r: dict) -> tuple:
    return (r["is_title"] or r["is_anaphoric"], not _factual(r), _PRECISION_RANK.get(r["date_precision"], 3),
            r["published_date"] or date.max, r["article_id"], r["sentence_idx"], r["trigger_start"])


def _assign(candidates: pl.DataFrame, rows: list[dict], keep: set[int], uf: _UnionFind) -> pl.DataFrame:
    groups: dict[int, list[int]] = defaultdict(list)
    for i in sorted(keep):
        groups[uf.find(i)].append(i)
    event_ids, primary, status = [""] * len(rows), [False] * len(rows), ["reported"] * len(rows)
    for members in groups.values():
        first = min(members, key=lambda i: (rows[i]["article_id"], rows[i]["sentence_idx"], rows[i]["trigger_start"]))
        r = rows[first]
        event_id = "ev_" + _sha(f"{r['event_type']}|{r['article_id']}|{r['sentence_idx']}|{r['trigger_start']}")[:16]
        best = min(members, key=lambda i: _primary_key(rows[i]))
        # once any report says it happened, it happened; headlines carry no tense
        voters = [i for i in members if not rows[i]["is_title"]] or members
        happened = any(rows[i]["status"] == "reported" for i in voters)
        for i in members:
            event_ids[i] = event_id
            status[i] = "reported" if happened else "planned"
        primary[best] = True
    order = sorted(keep)
    frame = candidates.with_row_index("_row").filter(pl.col("_row").is_in(order)).drop("_row")
    return frame.with_columns(
        pl.Series("event_id", [event_ids[i] for i in order], dtype=pl.String),
        pl.Series("is_primary", [primary[i] for i in order], dtype=pl.Boolean),
        pl.Series("event_status", [status[i] for i in order], dtype=pl.String),
    )
