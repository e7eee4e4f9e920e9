"""SQL unit tests of the event rollups (agg_event_timeline, agg_entity_cooccurrence) on given rows."""

from __future__ import annotations

from datetime import date

from newsetl.sqltest import run_model


def event(event_id: str, **extra) -> dict:
    base = {"event_id": event_id, "event_type": "SANCTION", "context": "semiconductors",
            "event_date": date(2025, 10, 10), "date_precision": "day", "status": "reported",
            "first_reported_date": date(2025, 10, 11), "article_count": 1, "mention_count": 1,
            "is_background": False, "is_fact": True}
    return {**base, **extra}


def test_timeline_counts_new_facts_per_month_type_and_context_and_the_rest_apart():
    rows = run_model("agg_event_timeline", {"marts.fct_event": [
        event("E1", article_count=3, mention_count=4),
        event("E2", event_date=date(2025, 10, 1), date_precision="month", status="planned"),
        # a year is too coarse for a month: the first report places it
        event("E3", event_date=date(2025, 1, 1), date_precision="year", first_reported_date=date(2025, 10, 20)),
        event("E4", is_background=True),
        event("E5", is_fact=False),
        event("E6", event_type="CONSULT", context=None, event_date=date(2025, 11, 3)),
        event("E7", event_date=None, date_precision="none", first_reported_date=None),  # nowhere to place it
    ]})
    by_key = {(r["month"], r["event_type"], r["context"]): r for r in rows}
    assert set(by_key) == {(date(2025, 10, 1), "SANCTION", "semiconductors"), (date(2025, 11, 1), "CONSULT", "other")}
    october = by_key[(date(2025, 10, 1), "SANCTION", "semiconductors")]
    assert (october["events"], october["events_reported"], october["events_planned"], october["events_background"],
            october["events_negated_or_hypothetical"], october["events_dated_by_report"]) == (3, 2, 1, 1, 1, 1)
    assert (october["articles"], october["mentions"]) == (7, 8)


def test_cooccurrence_pairs_entities_of_factual_events_once_in_order():
    participants = [
        ("E1", "country:US", "actor"), ("E1", "country:CN", "target"), ("E1", "commodity:gallium", "topic"),
        ("E2", "country:US", "actor"), ("E2", "country:CN", "target"),
        ("E3", "country:US", "actor"), ("E3", "country:JP", "target"),  # hypothetical: no pair
    ]
    rows = run_model("agg_entity_cooccurrence", {
        "marts.fct_event_participant": [{"event_id": e, "entity_id": k, "role": r} for e, k, r in participants],
        "marts.fct_event": [event("E1"), event("E2", event_type="CONCEDE", event_date=None, date_precision="none",
                                              first_reported_date=date(2025, 12, 1)),
                            event("E3", is_fact=False)],
        "marts.dim_entity": [{"entity_id": k, "name": k.split(":")[1], "entity_type": "COUNTRY"}
                             for k in ("country:US", "country:CN", "country:JP", "commodity:gallium")],
    })
    pairs = {(r["entity_id_a"], r["entity_id_b"]): r for r in rows}
    assert set(pairs) == {("country:CN", "country:US"), ("commodity:gallium", "country:CN"),
                          ("commodity:gallium", "country:US")}
    us_cn = pairs[("country:CN", "country:US")]
    assert (us_cn["event_count"], us_cn["party_event_count"], us_cn["event_types"]) == (2, 2, ["CONCEDE", "SANCTION"])
    assert (us_cn["first_date"], us_cn["last_date"]) == (date(2025, 10, 10), date(2025, 12, 1))
    assert (us_cn["name_a"], us_cn["name_b"]) == ("CN", "US")
    assert pairs[("commodity:gallium", "country:US")]["party_event_count"] == 0
