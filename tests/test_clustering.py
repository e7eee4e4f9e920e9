"""Candidates into real-world events: one event however many sentences and articles report it, and no more."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from newsetl.clustering import cluster_events, dates_agree, participants_agree
from newsetl.events import CANDIDATE_SCHEMA

US, CN, JP, KR = "country:US", "country:CN", "country:JP", "country:KR"


def cand(article_id: str, sentence_idx: int, event_type: str = "SANCTION", *, actors=(US,), targets=(CN,),
         topics=("commodity:gallium",), day: date | None = date(2025, 10, 10), precision: str = "day",
         date_text: str | None = "10일", mode: str = "export_control", evidence: str | None = None,
         trigger_start: int = 20, status: str = "reported", published: date | None = date(2025, 10, 11),
         **flags) -> dict:
    parts = ([{"entity_key": k, "role": "actor"} for k in actors] + [{"entity_key": k, "role": "target"} for k in targets]
             + [{"entity_key": k, "role": "topic"} for k in topics])
    return {
        "article_id": article_id, "sentence_idx": sentence_idx, "event_type": event_type, "mode": mode,
        "trigger_id": f"{event_type.lower()}_x", "trigger_text": "발표했", "trigger_start": trigger_start,
        "participants": parts, "event_date": day, "date_precision": precision if day else "none",
        "date_text": date_text, "status": status,
        "is_background": flags.get("is_background", False), "is_negated": flags.get("is_negated", False),
        "is_hypothetical": flags.get("is_hypothetical", False), "is_title": flags.get("is_title", False),
        "is_anaphoric": flags.get("is_anaphoric", False), "context": "critical_minerals",
        "contexts": ["critical_minerals"], "affiliations": sorted(k for k in actors if k.startswith("country:")),
        "figures": [],
        "published_date": published,
        "evidence": evidence or f"{article_id} 문장 {sentence_idx}: 미국은 중국에 대한 갈륨 수출 통제 조치를 발표했다.",
    }


def events(*rows: dict) -> dict[tuple[str, int], str]:
    frame = cluster_events(pl.DataFrame(list(rows), schema=CANDIDATE_SCHEMA))
    return {(r["article_id"], r["sentence_idx"]): r["event_id"] for r in frame.iter_rows(named=True)}


def groups(ids: dict) -> list[set]:
    by: dict[str, set] = {}
    for key, event_id in ids.items():
        by.setdefault(event_id, set()).add(key)
    return sorted(by.values(), key=lambda s: sorted(s))


def test_two_articles_reporting_one_measure_on_one_day_are_one_event():
    ids = events(cand("a1", 3), cand("a2", 7, actors=(US, "org:us_doc")))
    assert groups(ids) == [{("a1", 3), ("a2", 7)}]


def test_a_repost_of_the_same_sentence_joins_even_without_its_publication_date():
    same = "미국은 이날 중국에 대한 갈륨 수출 통제 조치를 발표했다."
    ids = events(cand("a1", 3, evidence=same), cand("a2", 5, evidence=same, day=None, date_text="이날"))
    assert groups(ids) == [{("a1", 3), ("a2", 5)}]
    next_year = "미국은 내년 중국에 대한 갈륨 수출 허가제를 시행할 예정이다."
    ids = events(cand("a1", 3, evidence=next_year, day=date(2026, 1, 1), precision="year", date_text="내년"),
                 cand("a2", 4, evidence=next_year, day=date(2026, 1, 1), precision="year", date_text="내년"))
    assert len(groups(ids)) == 1
    # a re-post without a publication date is known by a second shared sentence
    other = "미국은 이날 중국산 갈륨에 30%의 관세를 부과하겠다고 발표했다."
    lone = [cand("a1", 3, evidence=same), cand("a4", 5, evidence=same, day=None, date_text="이날", published=None)]
    assert len(groups(events(*lone))) == 2
    ids = events(*lone, cand("a1", 6, mode="tariff_raise", evidence=other, topics=()),
                 cand("a4", 8, mode="tariff_raise", evidence=other, day=None, date_text="이날", published=None, topics=()))
    assert groups(ids) == [{("a1", 3), ("a4", 5)}, {("a1", 6), ("a4", 8)}]
    # a stock sentence in an unrelated article months later is not a re-post of it
    stock = "캐나다와 미국은 안티모니 공급망 협력을 위한 업무협약(MOU)을 체결했다."
    ids = events(cand("a1", 3, "AGREE", evidence=stock, day=None, date_text=None, published=date(2024, 4, 24)),
                 cand("a9", 4, "AGREE", evidence=stock, day=None, date_text=None, published=date(2026, 10, 14)))
    assert len(groups(ids)) == 2
    # the same template sentence on another day is another event
    ids = events(cand("a1", 3, evidence=same), cand("a3", 5, evidence=same, day=date(2025, 11, 2)))
    assert len(groups(ids)) == 2


def test_different_days_goods_directions_or_kinds_stay_apart():
    assert len(groups(events(cand("a1", 1), cand("a2", 1, day=date(2025, 10, 11))))) == 2
    assert len(groups(events(cand("a1", 1), cand("a2", 1, topics=("commodity:antimony",))))) == 2
    assert len(groups(events(cand("a1", 1), cand("a2", 1, actors=(CN,), targets=(US,))))) == 2
    assert len(groups(events(cand("a1", 1), cand("a2", 1, mode="ban")))) == 2
    assert len(groups(events(cand("a1", 1), cand("a2", 1, is_hypothetical=True)))) == 2
    # a 10% tariff is not the 50% one, and a meeting in Beijing is not the one in Osaka
    assert len(groups(events({**cand("a1", 1), "figures": ["10%"]}, {**cand("a2", 1), "figures": ["50%"]}))) == 2
    assert len(groups(events({**cand("a1", 1), "figures": ["10%"]}, {**cand("a2", 1), "figures": ["10%", "3곳"]}))) == 1
    beijing = {"entity_key": "loc:beijing", "role": "location"}
    osaka = {"entity_key": "loc:osaka", "role": "location"}
    a, b = cand("a1", 1, "CONSULT", actors=(CN, JP), targets=(), mode="meeting"), cand("a2", 1, "CONSULT", actors=(CN, JP),
                                                                                       targets=(), mode="meeting")
    assert len(groups(events(a, b))) == 1
    assert len(groups(events({**a, "participants": a["participants"] + [beijing]},
                             {**b, "participants": b["participants"] + [osaka]}))) == 2


def test_a_month_precise_report_cannot_chain_two_days_into_one_event():
    ids = events(cand("a1", 1, day=date(2025, 10, 7)), cand("a2", 1, day=date(2025, 10, 1), precision="month",
                                                                date_text="이달"),
                 cand("a3", 1, day=date(2025, 10, 20)))
    assert len(groups(ids)) == 2
    # '이달 말' is a month, but not the 7th
    assert not dates_agree(cand("a1", 1, day=date(2025, 10, 7)),
                           cand("a2", 1, day=date(2025, 10, 1), precision="month", date_text="이달 말"))
    assert dates_agree(cand("a1", 1, day=date(2025, 10, 27)),
                       cand("a2", 1, day=date(2025, 10, 1), precision="month", date_text="이달 말"))


def test_within_an_article_two_dated_reports_need_the_same_actors():
    ids = events(cand("a1", 1, actors=(US,)), cand("a1", 9, actors=("new:person:브래넌", "org:us_doc", US)))
    assert len(groups(ids)) == 2


def test_joint_events_need_two_shared_sides():
    a = cand("a1", 1, "CONSULT", actors=(KR, "country:AE"), targets=(), mode="meeting")
    b = cand("a2", 1, "CONSULT", actors=(JP, KR), targets=(), mode="meeting")
    c = cand("a3", 1, "CONSULT", actors=(KR, "country:AE"), targets=(), mode="meeting")
    assert not participants_agree(a, b) and participants_agree(a, c)


def test_headline_joins_the_lead_and_an_unmatched_headline_is_dropped():
    ids = events(cand("a1", 0, is_title=True, day=None, date_text=None, topics=()),
                 cand("a1", 2), cand("a1", 8, day=date(2025, 9, 1), precision="month", date_text="지난달"))
    assert groups(ids) == [{("a1", 0), ("a1", 2)}, {("a1", 8)}]
    ids = events(cand("a1", 0, "INVEST", is_title=True, day=None, date_text=None), cand("a1", 2))
    assert set(ids) == {("a1", 2)}


def test_undated_mention_joins_an_event_of_its_kind_only():
    ids = events(cand("a1", 2), cand("a1", 5, day=None, date_text=None))
    assert len(groups(ids)) == 1
    ids = events(cand("a1", 2), cand("a1", 5, day=None, date_text=None, mode="ban"))
    assert len(groups(ids)) == 2
    # background joins background only
    ids = events(cand("a1", 2), cand("a1", 5, day=None, date_text=None, is_background=True))
    assert len(groups(ids)) == 2


def test_two_clauses_with_different_actors_are_two_concessions():
    sentence = "미국은 관세를 인하해줬고, 중국은 희토류 수출 통제 조치를 1년 유예했다."
    rows = [cand("a1", 21, "CONCEDE", actors=(US,), targets=(CN,), evidence=sentence, trigger_start=5, mode="tariff_cut"),
            cand("a1", 21, "CONCEDE", actors=(CN,), targets=(), evidence=sentence, trigger_start=30, mode="suspension")]
    assert cluster_events(pl.DataFrame(rows, schema=CANDIDATE_SCHEMA))["event_id"].n_unique() == 2
    # the same actor in two clauses of one sentence is one event ('회담을 갖고, … 논의했다')
    rows[1] = cand("a1", 21, "CONCEDE", actors=(US,), targets=(), evidence=sentence, trigger_start=30, mode="suspension")
    assert cluster_events(pl.DataFrame(rows, schema=CANDIDATE_SCHEMA))["event_id"].n_unique() == 1


def test_each_event_has_one_primary_mention_and_happened_once_any_report_says_so():
    frame = cluster_events(pl.DataFrame([
        cand("a1", 0, is_title=True, day=None, date_text=None),
        cand("a1", 2, day=date(2025, 10, 1), precision="month", date_text="이달", status="planned"),
        cand("a2", 4, status="reported"),
    ], schema=CANDIDATE_SCHEMA))
    assert frame["event_id"].n_unique() == 1
    primary = frame.filter(pl.col("is_primary"))
    assert primary.height == 1 and primary["article_id"][0] == "a2"  # the day-precise report
    assert set(frame["event_status"]) == {"reported"}
    assert cluster_events(pl.DataFrame(schema=CANDIDATE_SCHEMA)).height == 0


def test_a_block_compares_only_mentions_of_one_mode_that_may_share_a_date():
    from newsetl.clustering import _comparable_pairs, _mode_family

    days = [date(2025, 10, d) for d in (7, 7, 10, 7, 10)]
    rows = [cand(f"a{i}", 1, day=d, mode=m)
            for i, (d, m) in enumerate(zip(days, ["export_control", "tariff", "export_control", "export_control",
                                                   "export_control"], strict=True))]
    rows.append(cand("m", 1, day=date(2025, 10, 1), precision="month", date_text="이달"))  # meets any day
    members = list(range(len(rows)))
    pairs = [(i, j) for i, later in _comparable_pairs(rows, members) for j in later]
    everything = [(i, j) for x, i in enumerate(members) for j in members[x + 1:]]
    # the pairs a full comparison would union, in its order: same mode, and the same day unless one is a month
    assert pairs == [(i, j) for i, j in everything if _mode_family(rows[i]) == _mode_family(rows[j])
                     and (dates_agree(rows[i], rows[j]) or rows[i]["date_precision"] != rows[j]["date_precision"])]
    assert pairs == [(0, 3), (0, 5), (2, 4), (2, 5), (3, 5), (4, 5)]


def test_events_do_not_depend_on_the_process_string_hashing(tmp_path):
    # A month-dated report by the US and Japan can join the US report of the 7th or the Japanese one of the
    # 10th, not both. Which it met first followed the order of a set of names, that is Python's per-process
    # string hashing: two runs over the same candidates could differ.
    import os
    import subprocess
    import sys

    script = tmp_path / "cluster.py"
    script.write_text(
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_clustering import cand, events, groups, date, US, JP\n"
        "rows = [cand('a0', 1, actors=(US, JP), day=date(2025, 10, 1), precision='month', date_text='이달'),\n"
        "        cand('a1', 1, actors=(US,), day=date(2025, 10, 7)), cand('a2', 1, actors=(JP,), day=date(2025, 10, 10))]\n"
        "print([sorted(g) for g in groups(events(*rows))])\n")
    outputs = {subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in range(8)}
    assert outputs == {"[[('a0', 1), ('a2', 1)], [('a1', 1)]]\n"}  # parties in name order: JP before US
