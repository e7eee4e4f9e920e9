"""Tests of newsetl.checks: suites load strictly, conventions hold, and breakage is caught with the right severity.

`make_warehouse` builds a small, healthy warehouse (marts, raw tables and the real sql/checks views) in
DuckDB without running the pipeline; each test breaks one thing and validates it with the real suites.
test_report.py uses it too.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from newsetl import checks, warehouse
from newsetl.config import Settings
from newsetl.formats import REASONS
from newsetl.models import load_graph

SETTINGS = Settings()
EXPECTATIONS = SETTINGS.expectations_dir
ENTITY_TYPES = {"COUNTRY", "ORG", "PERSON", "LOCATION", "COMMODITY", "TECHNOLOGY", "PROGRAM"}
EVENT_TYPES = {"AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST", "ACCUSE",
               "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT", "INVEST"}
HOSTILE = "<script>alert('x')</script> & Co"
TODAY = date(2026, 1, 15)

MART_DDL = """
create table marts.dim_article (article_id varchar, source_path varchar, publisher varchar, title varchar,
    published_date date, published_date_source varchar, body varchar, char_count bigint, duplicate_of varchar,
    ingested_at timestamp);
create table marts.dim_entity (entity_id varchar, name varchar, name_en varchar, entity_type varchar,
    wikidata_id varchar, aliases varchar[], discovered boolean, first_seen date, last_seen date,
    article_count bigint, mention_count bigint);
create table marts.fct_entity_mention (article_id varchar, sentence_idx integer, entity_id varchar,
    surface varchar, char_start integer, char_end integer, entity_type varchar, method varchar,
    title varchar, affiliation_id varchar);
create table marts.fct_event (event_id varchar, event_type varchar, mode varchar, event_date date,
    date_precision varchar, status varchar, summary varchar, first_reported_date date, article_count bigint,
    mention_count bigint, context varchar, is_background boolean default false, is_fact boolean default true);
create table marts.fct_event_mention (event_id varchar, article_id varchar, sentence_idx integer, evidence varchar);
create table marts.fct_event_participant (event_id varchar, entity_id varchar, role varchar);
"""

ENTITIES = [  # id, name, type, wikidata
    ("country:kr", "한국", "COUNTRY", "Q884"), ("country:us", "미국", "COUNTRY", "Q30"),
    ("org:samsung", "삼성전자", "ORG", "Q20718"), ("person:ahn", "안덕근", "PERSON", None),
    ("commodity:lithium", "리튬", "COMMODITY", "Q568"), ("tech:hbm", "HBM", "TECHNOLOGY", None),
    ("org:hostile", HOSTILE, "ORG", None), ("location:ulsan", "울산", "LOCATION", "Q41590"),
]
EVENT_KINDS = ["AGREE", "CONSULT", "SANCTION", "INVEST", "COOPERATE"]


def rule_views() -> list[str]:
    graph = load_graph(SETTINGS.sql_dir, SETTINGS.reference_dir)
    return [n for n in graph.order if graph.models[n].schema == "checks"]


def make_warehouse(con: duckdb.DuckDBPyConnection, *, run_id: str = "r1",
                   started: datetime = datetime(2026, 1, 15, 9, 0)) -> None:
    """30 articles (one a duplicate), 8 entities, 25 events, one quarantined file: every check passes."""
    warehouse.ensure_schema(con)
    con.execute("create schema if not exists checks")
    con.execute(MART_DDL)
    articles, mentions = [], []
    for i in range(30):
        aid = f"a{i:02d}"
        day = date(2025, 1, 1) + timedelta(days=7 * i)
        title = "<img src=x onerror=alert(1)> 반도체 협력" if i == 3 else f"기사 {i}"
        articles.append((aid, f"in/{aid}.txt", "연합뉴스", title, day, "metadata", f"본문 {i}", 120 + i,
                         "a00" if i == 29 else None, started))
        if i < 29:
            for j, (eid, name, kind, _) in enumerate(ENTITIES[i % 6: i % 6 + 3]):
                mentions.append((aid, j, eid, name, 0, len(name), kind, "gazetteer"))
    con.executemany("insert into marts.dim_article values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", articles)
    con.executemany("insert into marts.fct_entity_mention (article_id, sentence_idx, entity_id, surface, char_start, "
                    "char_end, entity_type, method) values (?, ?, ?, ?, ?, ?, ?, ?)", mentions)
    con.execute("update marts.fct_entity_mention set title = '장관', affiliation_id = 'country:kr' "
                "where entity_id = 'person:ahn'")
    con.execute("""
        insert into marts.dim_entity
        select m.entity_id, any_value(m.surface), null, any_value(m.entity_type), null, [], false,
               min(a.published_date), max(a.published_date), count(distinct m.article_id), count(*)
        from marts.fct_entity_mention as m join marts.dim_article as a using (article_id) group by m.entity_id""")
    con.executemany("update marts.dim_entity set wikidata_id = ? where entity_id = ?",
                    [(wd, eid) for eid, _, _, wd in ENTITIES if wd])
    events, event_mentions, participants = [], [], []
    for i in range(25):
        eid, aid = f"ev{i:02d}", f"a{i:02d}"
        published = articles[i][4]
        dated = i % 5 != 0  # 5 of 25 undated: share 0.2
        events.append((eid, EVENT_KINDS[i % 5], "mou", published if dated else None, "day" if dated else "none",
                       "reported", f"사건 {i} </table><script>x</script>", published, 1, 1))
        event_mentions.append((eid, aid, 0, f"증거 문장 {i}: {HOSTILE}"))
        participants += [(eid, ENTITIES[i % 4][0], "actor"), (eid, ENTITIES[i % 4 + 1][0], "target")]
    con.executemany("insert into marts.fct_event (event_id, event_type, mode, event_date, date_precision, status, "
                    "summary, first_reported_date, article_count, mention_count) "
                    "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", events)
    con.executemany("insert into marts.fct_event_mention values (?, ?, ?, ?)", event_mentions)
    con.executemany("insert into marts.fct_event_participant values (?, ?, ?)", participants)
    con.executemany("""insert into raw.articles (article_id, source_path, content_sha256, format, raw_text, body,
                       ingested_at, run_id) values (?, ?, ?, 'txt', ?, ?, ?, ?)""",
                    [(a[0], a[1], f"sha{a[0]}", a[6], a[6], started, run_id) for a in articles])
    con.execute("""insert into raw.quarantine (source_path, reason, detail, run_id, quarantined_at)
                   values ('in/<b>evil</b>.bin', 'binary', 'NUL bytes "here" & <there>', ?, ?)""", [run_id, started])
    con.execute("insert into audit.pipeline_runs (run_id, started_at, finished_at, status, articles_new, "
                "quarantined_new, published, counts) values (?, ?, ?, 'success', 30, 1, true, ?)",
                [run_id, started, started + timedelta(seconds=42),
                 json.dumps({"marts.dim_article": 30, "marts.dim_entity": 8, "marts.fct_event": 25})])
    # The other marts (agg_*) and the check views: their real SQL over the tables above.
    graph = load_graph(SETTINGS.sql_dir, SETTINGS.reference_dir)
    for name in graph.order:
        model = graph.models[name]
        sql = model.sql.strip().rstrip(";")
        if model.schema == "marts" and not warehouse.table_exists(con, name):
            con.execute(f"create table {name} as\n{sql}")
        elif model.schema == "checks":
            con.execute(f"create or replace view {name} as\n{sql}")


@pytest.fixture
def con():
    connection = duckdb.connect(":memory:")
    make_warehouse(connection)
    yield connection
    connection.close()


def run_checks(con, expectations: Path = EXPECTATIONS) -> checks.Validation:
    return checks.validate(con, expectations, rule_views(), today=TODAY)


def failures(results) -> set[tuple[str, str]]:
    return {(r.suite, r.severity) for r in results if not r.success}


# --- suites as files ---------------------------------------------------------------------------------------


def test_every_shipped_suite_loads_every_expectation_with_a_severity():
    suites = checks.load_suites(EXPECTATIONS)
    assert len(suites) == len(list(EXPECTATIONS.glob("*.json"))) >= 8
    for suite in suites:
        data = json.loads(Path(suite.origin).read_text(encoding="utf-8"))
        assert len(suite.configs) == len(data["expectations"]), suite.name
        assert {e["severity"] for e in data["expectations"]} <= {"critical", "warning"}
        assert all(e.get("description") for e in data["expectations"]), f"{suite.name}: say what each check means"
        assert "id" not in data and all("id" not in e for e in data["expectations"])


def test_every_mart_has_a_suite_that_checks_its_declared_grain():
    graph = load_graph(SETTINGS.sql_dir, SETTINGS.reference_dir)
    by_model = {s.model: s for s in checks.load_suites(EXPECTATIONS)}
    marts = [n for n in graph.order if graph.models[n].schema == "marts"]
    assert len(marts) >= 6
    for name in marts:
        suite = by_model.get(name)
        assert suite is not None, f"{name} has no suite in expectations/"
        grain = graph.models[name].config.get("grain")
        assert grain, f"{name} declares no grain"
        critical = [s for s in suite.specs if s["severity"] == "critical"]
        not_null = {s["kwargs"]["column"] for s in critical if s["type"] == "expect_column_values_to_not_be_null"
                    and "mostly" not in s["kwargs"]}
        assert set(grain) <= not_null, f"{name}: grain {grain} not all checked not-null"
        unique = [[s["kwargs"]["column"]] if s["type"] == "expect_column_values_to_be_unique"
                  else s["kwargs"]["column_list"] for s in critical if s["type"] in checks._GRAIN_TYPES]
        assert grain in unique, f"{name}: grain {grain} not checked unique"
        assert suite.key == grain


def test_accepted_values_are_the_contracts_sets():
    sets = {}
    for suite in checks.load_suites(EXPECTATIONS):
        for spec in suite.specs:
            if spec["type"] == "expect_column_values_to_be_in_set":
                sets[(suite.name, spec["kwargs"]["column"])] = set(spec["kwargs"]["value_set"])
    assert sets[("dim_entity", "entity_type")] == ENTITY_TYPES
    assert sets[("fct_entity_mention", "entity_type")] == ENTITY_TYPES
    assert sets[("fct_event", "event_type")] == EVENT_TYPES
    assert sets[("fct_event", "date_precision")] == {"day", "month", "year", "none"}
    assert sets[("fct_event_participant", "role")] == {"actor", "target", "location", "topic"}
    assert sets[("raw_quarantine", "reason")] == set(REASONS) | {"implausible_date"}


def _suite_dir(tmp_path: Path, expectation: dict, name: str = "dim_article", **top) -> Path:
    doc = {"name": name, "meta": {"model": "marts.dim_article"}, "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "article_id"}, "severity": "critical"},
        expectation], **top}
    folder = tmp_path / "suites"
    folder.mkdir(exist_ok=True)
    (folder / "dim_article.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


@pytest.mark.parametrize(("expectation", "message"), [
    ({"type": "expect_column_values_to_be_uniqe", "kwargs": {"column": "article_id"}, "severity": "critical"},
     "unknown expectation type: expect_column_values_to_be_uniqe"),
    ({"type": "expect_column_values_to_be_between", "kwargs": {"column": "char_count", "min_vaule": 1},
      "severity": "critical"}, "min_vaule: extra fields not permitted"),
    ({"type": "expect_column_values_to_be_between", "kwargs": {"column": "char_count", "min_value": "one"},
      "severity": "critical"}, "min_value"),
    ({"type": "expect_column_values_to_be_unique", "kwargs": {"column": "article_id"}, "severity": "critcal"},
     "severity must be 'critical'"),
    ({"type": "expect_column_values_to_be_unique", "kwargs": {"column": "article_id"}},
     "severity must be 'critical'"),
    ({"type": "expect_column_values_to_be_unique", "kwargs": {"column": "article_id"}, "severity": "critical",
      "id": "4f1c0d8e-0000-0000-0000-000000000000"}, "unknown key(s) id"),
    ({"type": "expect_column_values_to_be_between", "kwargs": {"column": "published_date",
      "max_value": {"$PARAMETER": "tomorow"}}, "severity": "critical"}, "unknown $PARAMETER tomorow"),
])
def test_a_typo_in_a_suite_fails_loudly_naming_file_and_position(tmp_path, expectation, message):
    folder = _suite_dir(tmp_path, expectation)
    with pytest.raises(checks.SuiteError) as caught:
        checks.load_suites(folder)
    text = str(caught.value)
    assert str(folder / "dim_article.json") in text and "expectations[1]" in text
    assert message in text
    assert "\n" not in text


def test_gx_itself_drops_an_unknown_expectation_silently_which_is_why_we_count():
    import great_expectations as gx

    suite = gx.ExpectationSuite(name="x", expectations=[
        {"type": "expect_column_values_to_be_uniqe", "kwargs": {"column": "a"}}])
    assert len(suite.expectations) == 0  # no exception: only a log line


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "not valid JSON"),
    (json.dumps({"name": "other", "expectations": []}), "must equal the file name 'dim_article'"),
    (json.dumps({"name": "dim_article", "expectations": []}), "non-empty list"),
])
def test_a_broken_suite_file_fails_loudly(tmp_path, text, message):
    (tmp_path / "dim_article.json").write_text(text, encoding="utf-8")
    with pytest.raises(checks.SuiteError, match=message.replace("(", r"\(")):
        checks.load_suites(tmp_path)


def test_during_a_run_a_broken_suite_is_a_blocking_failure_not_a_crash(con, tmp_path):
    folder = _suite_dir(tmp_path, {"type": "expect_column_values_to_be_uniqe", "kwargs": {"column": "x"},
                                   "severity": "warning"})
    results = run_checks(con, folder)
    broken = [r for r in results if r.suite == "dim_article"]
    assert len(broken) == 1 and broken[0].blocking and broken[0].expectation == "load suite"
    assert "expect_column_values_to_be_uniqe" in broken[0].observed
    # the rule views still ran
    assert {r.suite for r in results} >= {"checks.participant_without_entity", "checks.mention_without_article"}


# --- validation of a warehouse -----------------------------------------------------------------------------


def test_a_healthy_warehouse_passes_every_check(con):
    results = run_checks(con)
    assert failures(results) == set()
    suites = {s.name: s for s in checks.load_suites(EXPECTATIONS)}
    named = {s.model for s in suites.values()}
    views = [v for v in rule_views() if v not in named]
    assert len(results) == sum(len(s.specs) for s in suites.values()) + len(views)
    assert {"checks.participant_without_entity", "checks.mention_without_article"} <= {r.suite for r in results}
    quality = {r.expectation: r.observed for r in results if r.suite == "quality_metrics"}
    assert float(quality["expect_column_max_to_be_between(column=share_events_without_date, max_value=0.6)"]) == 0.2
    assert float(quality["expect_column_max_to_be_between(column=share_intake_quarantined, max_value=0.05)"]) == \
        pytest.approx(1 / 31, abs=1e-6)


BREAKAGES = {
    # name: (SQL that breaks it, failures that must appear, blocking?)
    "duplicate article": ("insert into marts.dim_article select * from marts.dim_article where article_id = 'a05'",
                          {("dim_article", "error")}, True),
    "unknown entity type": ("update marts.dim_entity set entity_type = 'ALIEN' where entity_id = 'tech:hbm'",
                            {("dim_entity", "error")}, True),
    "future publication date": ("update marts.dim_article set published_date = date '2099-01-01' "
                                "where article_id = 'a07'", {("dim_article", "error")}, True),
    "orphan participant": ("insert into marts.fct_event_participant values ('ev01', 'ghost:entity', 'actor')",
                           {("checks.participant_without_entity", "error")}, True),
    "mention of a missing article": ("delete from marts.dim_article where article_id = 'a04'",
                                     {("checks.mention_without_article", "error")}, True),
    "event without its event": ("delete from marts.fct_event where event_id = 'ev02'",
                                {("checks.event_child_without_event", "error")}, True),
    "unknown role": ("update marts.fct_event_participant set role = 'boss' where event_id = 'ev03'",
                     {("fct_event_participant", "error")}, True),
    "precision without a date": ("update marts.fct_event set event_date = null where event_id = 'ev01'",
                                 {("fct_event", "error")}, True),
    "most events undated": ("update marts.fct_event set event_date = null, date_precision = 'none' "
                            "where event_id < 'ev18'", {("quality_metrics", "warn")}, False),
    "no event dated": ("update marts.fct_event set event_date = null, date_precision = 'none'",
                       {("quality_metrics", "warn"), ("quality_metrics", "error")}, True),
    "entity extraction lost": ("delete from marts.fct_entity_mention where article_id <> 'a00'",
                               {("quality_metrics", "error")}, True),
    "an event 75 years off": ("update marts.fct_event set event_date = date '1950-03-01' where event_id = 'ev01'",
                              {("event_date_far_from_article", "warn"), ("quality_metrics", "warn")}, False),
    "unknown quarantine reason": ("update raw.quarantine set reason = 'cosmic_rays'",
                                  {("raw_quarantine", "error")}, True),
    "whole intake quarantined": ("insert into raw.quarantine select 'in/bad' || i || '.txt', null, 'undecodable', "
                                 "'x', null, 'r2', timestamp '2026-01-16 09:00' from range(25) as t(i)",
                                 {("quality_metrics", "warn"), ("quality_metrics", "error")}, True),
    "a checked column dropped": ("alter table marts.dim_article drop column char_count",
                                 {("dim_article", "error")}, True),
    "a mart dropped": ("drop table marts.agg_event_timeline",
                       {("agg_event_timeline", "error")}, True),
}


@pytest.mark.parametrize("case", list(BREAKAGES))
def test_breakage_is_caught_with_the_right_severity(con, case):
    sql, expected, blocking = BREAKAGES[case]
    con.execute(sql)
    results = run_checks(con)
    assert expected <= failures(results)
    assert any(r.blocking for r in results) is blocking
    if not blocking:
        assert failures(results) == expected  # a warning case must not trip anything else


def test_failing_examples_name_the_rows(con):
    con.execute(BREAKAGES["duplicate article"][0])
    con.execute(BREAKAGES["orphan participant"][0])
    con.execute(BREAKAGES["unknown entity type"][0])
    results = run_checks(con)
    by = {(r.suite, r.expectation): r for r in results if not r.success}
    dup = by[("dim_article", "expect_column_values_to_be_unique(column=article_id)")]
    assert dup.unexpected_count == 2 and json.loads(dup.sample) == [{"article_id": "a05"}, {"article_id": "a05"}]
    orphan = by[("checks.participant_without_entity", "expect_table_row_count_to_equal(value=0)")]
    assert orphan.observed == "1"
    assert json.loads(orphan.sample) == [{"event_id": "ev01", "entity_id": "ghost:entity", "role": "actor"}]
    alien = next(r for (suite, e), r in by.items() if suite == "dim_entity" and "entity_type" in e)
    assert json.loads(alien.sample) == [{"entity_type": "ALIEN", "entity_id": "tech:hbm"}]
    dropped = duckdb.connect(":memory:")
    make_warehouse(dropped)
    dropped.execute(BREAKAGES["a checked column dropped"][0])
    missing = [r for r in run_checks(dropped) if not r.success]
    assert [r.observed for r in missing] == ["cannot evaluate: column 'char_count' is not in marts.dim_article"]


def test_a_table_level_failure_shows_rows_without_the_columns_read_only_as_null_flags(con, tmp_path):
    folder = _suite_dir(tmp_path, {"type": "expect_table_row_count_to_be_between", "kwargs": {"max_value": 1},
                                   "severity": "critical"})
    doc = json.loads((folder / "dim_article.json").read_text(encoding="utf-8"))
    doc["expectations"] += [
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "article_id"}, "severity": "critical"},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "title"}, "severity": "critical"}]
    (folder / "dim_article.json").write_text(json.dumps(doc), encoding="utf-8")
    failed = [r for r in run_checks(con, folder) if not r.success and r.suite == "dim_article"]
    assert [r.expectation for r in failed] == ["expect_table_row_count_to_be_between(max_value=1)"]
    rows = json.loads(failed[0].sample)
    assert rows and all(set(row) == {"article_id"} for row in rows)  # not 'title': true


def test_tomorrow_moves_with_the_calendar(con):
    # Articles of 2025 are in the future as seen from 2024-06-01: the range check uses $tomorrow, not a date.
    results = checks.validate(con, EXPECTATIONS, rule_views(), today=date(2024, 6, 1))
    late = [r for r in results if not r.success and "published_date" in r.expectation and r.suite == "dim_article"]
    assert late and late[0].severity == "error"
    assert late[0].expectation.endswith("max_value=$tomorrow)")


def test_record_appends_the_public_columns_and_gx_results(con):
    results = run_checks(con)
    checks.record(con, "r1", results)
    cols = [r[0] for r in con.execute("describe audit.validation_results").fetchall()]
    assert cols[:8] == ["run_id", "suite", "expectation", "severity", "success", "observed", "unexpected_count",
                        "sample"]
    rows = con.execute("select severity, count(*) from audit.validation_results where run_id = 'r1' "
                       "group by 1 order by 1").fetchall()
    assert sum(n for _, n in rows) == len(results) and {s for s, _ in rows} <= {"error", "warn"}
    suites = con.execute("select suite, rows_checked, gx_result, descriptions from audit.validation_suites "
                         "where suite = 'dim_article'").fetchall()
    assert suites[0][1] == 30
    gx_result = json.loads(suites[0][2])
    assert gx_result["success"] is True and len(gx_result["results"]) == len(
        json.loads((EXPECTATIONS / "dim_article.json").read_text(encoding="utf-8"))["expectations"])
    assert json.loads(suites[0][3])["expect_column_values_to_be_unique(column=article_id)"] == \
        "Grain: one row per article_id"


def test_a_copied_suite_dir_is_used_as_given(con, tmp_path):
    folder = tmp_path / "suites"
    shutil.copytree(EXPECTATIONS, folder)
    doc = json.loads((folder / "dim_entity.json").read_text(encoding="utf-8"))
    doc["expectations"].append({"type": "expect_table_row_count_to_be_between", "kwargs": {"max_value": 3},
                                "severity": "warning", "description": "test-only: at most 3 entities"})
    (folder / "dim_entity.json").write_text(json.dumps(doc), encoding="utf-8")
    results = run_checks(con, folder)
    assert failures(results) == {("dim_entity", "warn")}
    assert not any(r.blocking for r in results)


def _outcome(results) -> list[tuple]:
    """What a reader of the report sees of each check. Failing examples as a set (partitions find them in
    another order); of more than SAMPLE_ITEMS, only how many are shown (which ones depends on the order)."""
    def examples(r):
        items = json.loads(r.sample) if r.sample else []
        if (r.unexpected_count or 0) > checks.SAMPLE_ITEMS:
            return len(items)
        return tuple(sorted(json.dumps(x, sort_keys=True) for x in items))

    return sorted((r.suite, r.expectation, r.severity, r.success, r.observed, r.unexpected_count, examples(r))
                  for r in results)


PARTITION_CASES = {
    "healthy": None,
    "duplicate article": BREAKAGES["duplicate article"][0],
    "unknown entity type": BREAKAGES["unknown entity type"][0],
    "a checked column dropped": BREAKAGES["a checked column dropped"][0],
    "duplicate and broken mentions": "insert into marts.fct_entity_mention select * replace ("
                                     "case when article_id = 'a07' then null else surface end as surface, "
                                     "case when article_id = 'a11' then 'ALIEN' else entity_type end as entity_type) "
                                     "from marts.fct_entity_mention where article_id in ('a03', 'a07', 'a11', 'a19')",
}


@pytest.mark.parametrize("case", list(PARTITION_CASES))
def test_large_models_checked_in_partitions_give_the_whole_tables_results(con, case):
    # A model over partition_rows is read a partition of articles at a time (4 M mentions read whole took
    # 3.8 GB); forced here with 10 rows a partition, every check must come out as it does on whole tables.
    if PARTITION_CASES[case]:
        con.execute(PARTITION_CASES[case])
    mentions = warehouse.scalar(con, "select count(*) from marts.fct_entity_mention")
    assert checks.partitions("marts.fct_entity_mention", mentions, {"article_id"}, 10) >= 9
    whole = checks.validate(con, EXPECTATIONS, rule_views(), today=TODAY, partition_rows=None)
    parted = checks.validate(con, EXPECTATIONS, rule_views(), today=TODAY, partition_rows=10)
    assert _outcome(parted) == _outcome(whole)
    assert [(run.suite, run.rows) for run in parted.runs] == [(run.suite, run.rows) for run in whole.runs]
    if case == "duplicate and broken mentions":
        failed = {r.expectation: r.unexpected_count for r in parted if not r.success}
        grain = "expect_compound_columns_to_be_unique(column_list=[\"article_id\", \"sentence_idx\", " \
                "\"char_start\", \"entity_id\"])"
        # a03, a07, a11 and a19 carry 3 mentions each, every one now twice
        assert failed[grain] == 24
        assert failed["expect_column_values_to_not_be_null(column=surface)"] == 3
        assert failed[next(e for e in failed if "entity_type" in e)] == 3
    gx = {run.suite: run.gx_result for run in parted.runs}["fct_entity_mention"]
    assert gx["statistics"]["evaluated_expectations"] == len(gx["results"]) == 9
    assert gx["success"] is (case not in ("duplicate and broken mentions",))


def _passes_in_a_fresh_interpreter(code: str) -> None:
    """Run `code` in a new Python process (one that has not imported GX yet); it must exit cleanly."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]


def test_great_expectations_is_set_aside_from_garbage_collection_once_imported():
    # every stage of a run ends with a full collection (pipeline.give_back_memory); walking GX's ~200k
    # long-lived objects each time cost ~0.15 s, several times a run
    code = ("import gc\n"
            "from newsetl import checks\n"
            "before = gc.get_freeze_count()\n"
            "checks._gx()\n"
            "assert gc.get_freeze_count() > before + 100_000, (before, gc.get_freeze_count())\n")
    _passes_in_a_fresh_interpreter(code)


def test_libraries_great_expectations_imports_for_unused_features_load_only_when_read():
    # scipy.stats and altair were 1.2 s of GX's ~3 s import; the suites and reports never read them, and
    # whoever does gets the real module
    code = ("import sys\n"
            "from newsetl import checks\n"
            "checks._gx()\n"
            "from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl\n"
            "assert 'scipy.stats' not in {n for n, m in sys.modules.items() if not isinstance(m, checks._Deferred)}\n"
            "assert 'altair' not in {n for n, m in sys.modules.items() if not isinstance(m, checks._Deferred)}\n"
            "assert round(kl.stats.norm.cdf(1.0), 4) == 0.8413\n"
            "from scipy.stats import entropy\n"
            "assert round(float(entropy([0.5, 0.5], base=2)), 6) == 1.0\n"
            "assert type(sys.modules['scipy.stats']).__name__ == 'module'\n"
            "import altair\n"
            "assert altair.Chart is sys.modules['altair'].Chart\n")
    _passes_in_a_fresh_interpreter(code)


def test_checked_frames_are_not_kept_once_their_suite_is_done(con, monkeypatch):
    # GX's pandas engine kept every batch's frame as long as its context: at 100k articles the articles'
    # and the mentions' frames (~0.6 GB each) stayed through the checks after them, 1.9 GB at the peak
    import gc
    import weakref

    read = checks._frame
    frames: list[weakref.ref] = []

    def tracked(*args, **kwargs):
        frame = read(*args, **kwargs)
        frames.append(weakref.ref(frame))
        return frame

    monkeypatch.setattr(checks, "_frame", tracked)
    validation = checks.validate(con, EXPECTATIONS, rule_views(), today=TODAY, partition_rows=10)
    gc.collect()
    assert len(frames) > len(validation.runs)  # every suite read, the large ones in partitions
    assert all(r.success for r in validation)  # the healthy warehouse still passes every check
    assert [ref for ref in frames if ref() is not None] == []


def test_a_narrow_integer_column_is_read_as_int64_and_its_bad_values_still_named(con):
    """GX compares int64 and float64 columns with numpy, any other dtype value by value in Python: an INTEGER
    column (char_start) is read widened, and a bound on it still finds and shows the rows that break it."""
    frame = checks._frame(con, "marts.fct_entity_mention", ["char_start", "char_end", "sentence_idx"])
    assert {str(dtype) for dtype in frame.dtypes} == {"int64"}
    assert sorted(frame["char_start"].unique()) == [0]
    con.execute("update marts.fct_entity_mention set char_start = -3 where article_id = 'a02' and sentence_idx = 1")
    bad = [r for r in run_checks(con) if not r.success]
    assert [(r.suite, r.expectation, r.unexpected_count) for r in bad] == [
        ("fct_entity_mention", "expect_column_values_to_be_between(column=char_start, min_value=0)", 1)]
    assert [row["char_start"] for row in json.loads(bad[0].sample)] == [-3]
