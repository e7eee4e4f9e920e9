"""Marts exported as partitioned Parquet read back identically."""

from __future__ import annotations

from conftest import newsetl, query

from newsetl.export import read_back


def test_export_round_trip(sample_run, tmp_path):
    db, _ = sample_run
    out = tmp_path / "marts"
    result = newsetl("export", "--db", str(db), "--output", str(out), "--partition-by", "year",
                     "--partition-by", "event_type")
    assert result.returncode == 0, result.stderr
    for table in ("dim_article", "dim_entity", "fct_entity_mention", "fct_event", "fct_event_participant",
                  "fct_event_mention"):
        assert read_back(out, table).count("*").fetchall()[0][0] == query(db, f"select count(*) from marts.{table}")[0][0]
    # partition folders are hive-style and the partition columns come back as values
    assert any(p.name.startswith("event_type=") for p in (out / "fct_event").rglob("*"))
    assert any(p.name.startswith("year=") for p in (out / "fct_event").iterdir())
    types = {r[0] for r in read_back(out, "fct_event").select("event_type").fetchall()}
    assert types == {r[0] for r in query(db, "select distinct event_type from marts.fct_event")}
    events = read_back(out, "fct_event").select("event_id, event_type").order("event_id").fetchall()
    assert events == query(db, "select event_id, event_type from marts.fct_event order by event_id")
    # refusing to overwrite is the default
    again = newsetl("export", "--db", str(db), "--output", str(out))
    assert again.returncode == 2 and "--overwrite" in again.stderr
