"""Scale-out: the analysis spread over a real Dask LocalCluster of two worker processes."""

from __future__ import annotations

from conftest import newsetl, query

MARTS = {
    "mentions": "select article_id, sentence_idx, char_start, entity_id from marts.fct_entity_mention order by all",
    "events": "select e.event_type, e.event_date, m.evidence from marts.fct_event as e "
              "inner join marts.fct_event_mention as m on e.event_id = m.event_id order by all",
    "sentences": "select count(*), sum(length(text)) from intermediate.int_sentences",
}


def test_two_dask_workers_build_the_same_marts_as_one_process(sample_run, tmp_path):
    local, _ = sample_run
    db = tmp_path / "dask" / "newsetl.duckdb"
    result = newsetl("run", "--db", str(db), "--task-runner", "dask", "--dask-workers", "2", timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    for name, sql in MARTS.items():
        assert query(db, sql) == query(local, sql), name
    # the batches ran as Prefect task runs (retried if a worker is lost), not in the flow's process
    assert query(db, "select status from audit.pipeline_runs") == [("success",)]
    assert query(db, "select count(*) from marts.fct_event")[0][0] > 0
