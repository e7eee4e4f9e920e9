"""The runner: materializations, fingerprints, incremental merges, contracts and failures, on a toy project."""

from __future__ import annotations

import hashlib
import shutil
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT, newsetl, query
from typer.testing import CliRunner

from newsetl import warehouse
from newsetl.config import Settings
from newsetl.models import Model, ModelError, build_graph, discover_seeds, discover_sql
from newsetl.runner import ModelContext, build

STG = "/*\nkind: view\ndescription: Articles.\n*/\nselect article_id, body, ingested_at from raw.articles\n"
LENGTHS = """/*
kind: incremental
unique_key: [article_id]
time_column: ingested_at
description: Length of each article.
columns:
    article_id: varchar
    n: bigint
    ingested_at: timestamp
*/
select article_id, length(body) as n, ingested_at from staging.stg
"""
BY_DAY = """/*
kind: incremental
time_column: day
description: Articles per day.
*/
select cast(ingested_at as date) as day, count(*) as articles from staging.stg group by 1
"""
TOTAL = "/*\nkind: table\ndescription: Totals.\n*/\nselect count(*) as articles, sum(n) as chars from marts.lengths\n"
WORDS = "/*\nkind: table\ndescription: Words.\n*/\nselect word from reference.words\n"


@pytest.fixture(autouse=True)
def private_parse_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSETL_CACHE_DIR", str(tmp_path / "cache"))


class Toy:
    """A tiny project (SQL, one seed, optional Python models) and its warehouse."""

    def __init__(self, root: Path) -> None:
        self.root, self.db, self.runs = root, root / "toy.duckdb", 0
        self.python: list[Model] = []
        for rel, text in {"sql/staging/stg.sql": STG, "sql/marts/lengths.sql": LENGTHS,
                          "sql/marts/by_day.sql": BY_DAY, "sql/marts/total.sql": TOTAL,
                          "sql/marts/words.sql": WORDS, "seeds/words.csv": "id,word\n1,chip\n"}.items():
            self.write(rel, text)
        with warehouse.connect(self.db) as con:
            warehouse.ensure_schema(con)

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def add_articles(self, when: str, *bodies: str) -> None:
        with warehouse.connect(self.db) as con:
            for body in bodies:
                aid = hashlib.sha256(f"{when}{body}".encode()).hexdigest()[:12]
                con.execute("insert into raw.articles (article_id, source_path, content_sha256, format, raw_text, "
                            "body, ingested_at, run_id) values (?, 'x.txt', ?, 'txt', ?, ?, ?, 'r')",
                            [aid, aid, body, body, datetime.fromisoformat(when)])

    def build(self, full_refresh: bool = False, names: list[str] | None = None) -> dict:
        graph = build_graph([*discover_seeds(self.root / "seeds"), *self.python, *discover_sql(self.root / "sql")])
        self.runs += 1
        with warehouse.connect(self.db) as con:
            ctx = ModelContext(con=con, settings=Settings(), run_id=f"run{self.runs}", full_refresh=full_refresh)
            chosen = graph.select(names) if names else None
            return {r.model: r for r in build(ctx, graph, chosen)}

    def rows(self, sql: str) -> list[tuple]:
        return query(self.db, sql)


@pytest.fixture
def toy(tmp_path) -> Toy:
    project = Toy(tmp_path)
    project.add_articles("2025-10-01 09:00", "abc", "abcd", "abcde")
    return project


def statuses(results: dict) -> dict[str, str]:
    return {name: r.status for name, r in results.items() if not name.startswith("raw.")}


def test_second_build_with_nothing_new_rebuilds_nothing(toy):
    first = toy.build()
    assert set(statuses(first).values()) == {"success"}
    assert toy.rows("select articles, chars from marts.total") == [(3, 12)]
    second = toy.build()
    assert set(statuses(second).values()) == {"unchanged"}
    assert second["marts.lengths"].rows == 3
    assert toy.rows("select status, count(*) from audit.model_runs where run_id = 'run2' "
                    "and model not like 'raw.%' group by 1") == [("unchanged", 6)]


def test_incremental_models_process_only_new_rows(toy):
    toy.build()
    toy.add_articles("2025-10-02 09:00", "xy", "xyz")
    results = toy.build()
    lengths, by_day = results["marts.lengths"], results["marts.by_day"]
    assert (lengths.mode, lengths.rows_written, lengths.rows) == ("incremental", 2, 5)
    assert by_day.mode == "incremental"
    assert results["marts.total"].mode == "full" and results["marts.words"].status == "unchanged"
    assert toy.rows("select article_id, n from marts.lengths order by 1") == toy.rows(
        "select article_id, length(body) from raw.articles order by 1")
    # the time range from the high-water mark is replaced: day 2 is recounted, not appended twice
    toy.add_articles("2025-10-02 18:00", "later")
    toy.build()
    assert toy.rows("select day::varchar, articles from marts.by_day order by 1") == [
        ("2025-10-01", 3), ("2025-10-02", 3)]
    assert toy.rows("select articles, chars from marts.total") == [(6, 22)]


def test_changed_sql_rebuilds_that_model_and_what_reads_it(toy):
    toy.build()
    toy.write("sql/marts/total.sql", TOTAL.replace("sum(n) as chars", "sum(n) * 2 as chars"))
    results = statuses(toy.build())
    assert results["marts.total"] == "success"
    assert results["marts.lengths"] == "unchanged" and results["marts.by_day"] == "unchanged"
    assert toy.rows("select chars from marts.total") == [(24,)]
    # a new definition of an incremental model rebuilds it whole, then everything downstream
    toy.write("sql/marts/lengths.sql", LENGTHS.replace("length(body) as n", "length(body) + 1 as n"))
    results = toy.build()
    assert results["marts.lengths"].mode == "full" and results["marts.lengths"].rows_written == 3
    assert results["marts.total"].status == "success"
    assert toy.rows("select chars from marts.total") == [(30,)]


def test_upstream_edit_runs_an_incremental_model_incrementally(toy):
    toy.build()
    lineage = toy.rows("select lineage from audit.model_state where model = 'marts.lengths'")
    toy.write("sql/staging/stg.sql", STG.replace("select article_id, body,", "select article_id, body || '!' as body,"))
    toy.add_articles("2025-10-04 09:00", "wxyz")
    results = toy.build()
    # like dbt: old rows stay as built, new rows get the new logic; --full-refresh would recompute them
    assert (results["marts.lengths"].mode, results["marts.lengths"].rows_written) == ("incremental", 1)
    assert toy.rows("select n from marts.lengths order by ingested_at desc limit 1") == [(5,)]
    assert toy.rows("select lineage from audit.model_state where model = 'marts.lengths'") == lineage
    toy.build(full_refresh=True)
    assert toy.rows("select sum(n) from marts.lengths") == [(12 + 4 + 4,)]


def test_comments_and_descriptions_do_not_count_as_changes(toy):
    toy.build()
    toy.write("sql/marts/total.sql", TOTAL.replace("description: Totals.", "description: All of it.")
              .replace("select count(*)", "-- why: one row\nselect   count(*)"))
    assert statuses(toy.build())["marts.total"] == "unchanged"


def test_changed_seed_rebuilds_its_readers(toy):
    toy.build()
    toy.write("seeds/words.csv", "id,word\n1,chip\n2,wafer\n")
    results = statuses(toy.build())
    assert results["reference.words"] == "success" and results["marts.words"] == "success"
    assert results["marts.total"] == "unchanged"
    assert toy.rows("select word from marts.words order by 1") == [("chip",), ("wafer",)]


def test_full_refresh_rebuilds_everything_whole(toy):
    toy.build()
    results = toy.build(full_refresh=True)
    assert set(statuses(results).values()) == {"success"}
    assert results["marts.lengths"].mode == "full"


def test_selection_builds_only_what_was_chosen(toy):
    toy.build()
    toy.add_articles("2025-10-03 09:00", "new")
    results = toy.build(names=["+lengths"])
    assert set(results) == {"raw.articles", "staging.stg", "marts.lengths"}
    assert results["marts.lengths"].rows_written == 1
    # total was not selected: it is rebuilt by the next full build, because its input changed
    assert statuses(toy.build())["marts.total"] == "success"


def test_contract_violation_fails_clearly_and_keeps_the_table(toy):
    toy.build()
    toy.write("sql/marts/lengths.sql", LENGTHS.replace("length(body) as n", "cast(length(body) as varchar) as n"))
    results = toy.build()
    failed = results["marts.lengths"]
    assert failed.status == "error"
    assert failed.error.endswith("sql/marts/lengths.sql: contract: column 'n' would become VARCHAR; "
                                 "the header declares BIGINT")
    assert results["marts.total"].status == "skipped"
    assert toy.rows("select data_type from information_schema.columns where table_name = 'lengths' "
                    "and column_name = 'n'") == [("BIGINT",)]
    assert toy.rows("select count(*) from marts.lengths") == [(3,)]
    toy.write("sql/marts/lengths.sql", LENGTHS.replace("length(body) as n", "length(body) as size"))
    assert "declared column 'n' (BIGINT) is missing" in toy.build()["marts.lengths"].error


def test_sql_error_names_file_and_line_and_stops_the_build(toy):
    toy.build()
    toy.write("sql/marts/lengths.sql", LENGTHS.replace("select article_id, length(body) as n, ingested_at",
                                                       "select\n    article_id,\n    length(bodyy) as n,\n"
                                                       "    ingested_at"))
    results = toy.build()
    error = results["marts.lengths"].error
    line = (toy.root / "sql/marts/lengths.sql").read_text().splitlines().index("    length(bodyy) as n,") + 1
    assert f"sql/marts/lengths.sql:{line}: Binder Error" in error and "bodyy" in error
    assert "\n" not in error and "Traceback" not in error
    assert results["marts.total"].status == "skipped"
    assert toy.rows("select status, error from audit.model_runs where run_id = 'run2' "
                    "and model = 'marts.lengths'") == [("error", error)]


def test_incremental_keys_must_be_output_columns(toy):
    toy.write("sql/marts/by_day.sql", BY_DAY.replace("as day,", "as ingest_day,"))
    error = toy.build()["marts.by_day"].error
    assert error.endswith("sql/marts/by_day.sql: day (unique_key/time_column) is not a column of the query's output")
    # a contract that leaves the key out is refused when the graph loads, naming the file
    toy.write("sql/marts/lengths.sql", LENGTHS.replace("    ingested_at: timestamp\n", ""))
    with pytest.raises(ModelError, match="lengths.sql: 'ingested_at' is not among the declared columns"):
        toy.build()


def test_python_models_are_skipped_when_unchanged_and_refreshed_when_redefined(toy):
    calls: list[bool] = []

    def counts(ctx):
        calls.append(ctx.full_refresh)
        return ctx.frame("select count(*) as n from staging.stg")

    def counts_v2(ctx):
        calls.append(ctx.full_refresh)
        return ctx.frame("select count(*) + 0 as n from staging.stg")

    def model(func) -> Model:
        return Model(name="marts.py_counts", kind="python", func=func, depends_on=("staging.stg",),
                     outputs=("marts.py_counts",), config={"materialized": "incremental"})

    toy.python = [model(counts)]
    toy.build()
    toy.build()
    assert calls == [True]  # first build is a full one; the second found nothing changed
    toy.add_articles("2025-10-05 09:00", "more")
    toy.build()
    assert calls == [True, False]  # new input: the model runs incrementally and appends
    assert toy.rows("select n from marts.py_counts order by n") == [(3,), (4,)]
    toy.python = [model(counts_v2)]
    toy.build()
    assert calls == [True, False, True]
    assert toy.rows("select n from marts.py_counts") == [(4,)]

    # same function, but the library code it calls now returns another column: rebuilt whole
    def counts_v3(ctx):
        calls.append(ctx.full_refresh)
        frame = ctx.frame("select count(*) + 0 as n from staging.stg")
        return frame.with_columns(frame["n"].alias("n_again"))

    v2 = toy.python[0]  # its definition was computed when the graph was built
    toy.python = [model(counts_v3)]
    toy.python[0].definition, toy.python[0].code = v2.definition, "library v2"
    toy.add_articles("2025-10-06 09:00", "again")
    result = toy.build()["marts.py_counts"]
    assert calls == [True, False, True, False, True] and result.mode == "full"
    assert toy.rows("select n, n_again from marts.py_counts") == [(5, 5)]


def test_python_model_yielding_chunks_writes_each_and_keeps_them_all(toy):
    seen: list[int] = []  # rows already in the table when each chunk is computed: chunks are written as they come

    def lengths(ctx):
        for length in (3, 4, 5):
            seen.append(ctx.con.execute("select count(*) from marts.py_lengths").fetchall()[0][0]
                        if ctx.con.execute("select count(*) from information_schema.tables "
                                           "where table_name = 'py_lengths'").fetchall()[0][0] else -1)
            yield {"marts.py_lengths": ctx.frame("select article_id, length(body) as n from staging.stg "
                                                 "where length(body) = ?", [length]),
                   "marts.py_chunks": pl.DataFrame({"chunk": [length]})}

    toy.python = [Model(name="marts.py_lengths", kind="python", func=lengths, depends_on=("staging.stg",),
                        outputs=("marts.py_lengths", "marts.py_chunks"), config={"materialized": "table"})]
    result = toy.build()["marts.py_lengths"]
    assert result.status == "success" and result.rows == 3 and result.rows_written == 6
    assert seen == [-1, 1, 2]
    assert toy.rows("select n from marts.py_lengths order by n") == [(3,), (4,), (5,)]
    assert toy.rows("select chunk from marts.py_chunks order by chunk") == [(3,), (4,), (5,)]


def test_streaming_model_failing_midway_keeps_its_finished_chunks_and_is_built_whole_next_run(toy):
    lost = [True]

    def ids(ctx):
        yield ctx.frame("select article_id from staging.stg where length(body) = 3")
        if lost[0]:
            raise RuntimeError("worker lost")
        yield ctx.frame("select article_id from staging.stg where length(body) > 3")

    toy.python = [Model(name="marts.py_ids", kind="python", func=ids, depends_on=("staging.stg",),
                        outputs=("marts.py_ids",), config={"materialized": "table"})]
    failed = toy.build()["marts.py_ids"]
    assert failed.status == "error" and "worker lost" in failed.error
    assert toy.rows("select count(*) from marts.py_ids") == [(1,)]  # the first chunk was committed
    lost[0] = False
    rebuilt = toy.build()["marts.py_ids"]
    assert rebuilt.status == "success" and rebuilt.mode == "full"
    assert toy.rows("select count(*) from marts.py_ids") == [(3,)]


def test_python_model_yielding_nothing_is_an_error_naming_it(toy):
    def nothing(ctx):
        yield from ()

    toy.python = [Model(name="marts.py_nothing", kind="python", func=nothing, depends_on=("staging.stg",),
                        outputs=("marts.py_nothing",), config={"materialized": "table"})]
    result = toy.build()["marts.py_nothing"]
    assert result.status == "error" and "py_nothing yielded no result" in result.error


# --- the real project: `newsetl models run` on a copy of the sample warehouse ---------------------


def _copy_sample(sample_run, tmp_path) -> Path:
    db, _ = sample_run
    copy = tmp_path / "w" / "newsetl.duckdb"
    copy.parent.mkdir()
    shutil.copyfile(db, copy)
    return copy


def test_models_run_skips_unchanged_models(sample_run, tmp_path):
    db = _copy_sample(sample_run, tmp_path)
    runs = "select count(*) from audit.pipeline_runs where status = 'success'"
    before = query(db, runs)[0][0]
    first = newsetl("models", "run", "--select", "+dim_entity", "--db", str(db))
    assert first.returncode == 0, first.stderr
    # the copy was built by this code: nothing to do (the second run proves it where files changed meanwhile)
    again = newsetl("models", "run", "--select", "+dim_entity", "--db", str(db))
    assert again.returncode == 0, again.stderr
    assert "built " not in again.stderr, again.stderr
    assert "unchanged marts.dim_entity" in again.stderr and "unchanged intermediate.int_sentences" in again.stderr
    assert query(db, runs) == [(before + 2,)]
    listing = newsetl("models", "list", "--db", str(db), env={"COLUMNS": "200"})
    assert listing.returncode == 0 and "python (incremental)" in listing.stdout


def test_failing_model_stops_the_build_and_leaves_the_published_marts(sample_run, tmp_path, monkeypatch):
    from newsetl import cli

    db = _copy_sample(sample_run, tmp_path)
    marts = "select * from marts.dim_entity order by entity_id"
    before = query(db, marts), query(db, "select * from audit.model_state order by model")
    sql_dir = tmp_path / "sql"
    shutil.copytree(ROOT / "sql", sql_dir)
    broken = sql_dir / "marts" / "dim_entity.sql"
    text = broken.read_text(encoding="utf-8")
    broken.write_text(text.replace("mode(name) as name", "mode(nam) as name"), encoding="utf-8")
    line = text[:text.index("mode(name) as name")].count("\n") + 1
    monkeypatch.setattr(cli, "_settings", lambda db_: Settings().with_(db=db_, sql_dir=sql_dir))

    result = CliRunner().invoke(cli.app, ["models", "run", "--db", str(db)])
    assert result.exit_code == 1
    assert f"dim_entity.sql:{line}: Binder Error" in result.output
    assert "Traceback" not in result.output
    # the published marts and their build state are as they were; the failed run is in the history
    assert (query(db, marts), query(db, "select * from audit.model_state order by model")) == before
    assert query(db, "select status, message from audit.pipeline_runs order by started_at desc limit 1")[0][0] \
        == "error"
    work = db.with_name("newsetl.work.duckdb")
    skipped = {r[0] for r in query(work, "select model from audit.model_runs where status = 'skipped'")}
    assert "checks.participant_without_entity" in skipped


def test_memory_limit_holds_duckdbs_cache_low_within_the_block_and_restores_the_projects(monkeypatch):
    monkeypatch.setenv("NEWSETL_DUCKDB_MEMORY", "512MB")
    con = warehouse.connect(":memory:")
    setting = "select current_setting('memory_limit')"
    assert warehouse.scalar(con, setting) == "488.2 MiB"  # DuckDB shows 512 MB in MiB
    with warehouse.memory_limit(con, "160MB"):
        assert warehouse.scalar(con, setting) == "152.5 MiB"
    assert warehouse.scalar(con, setting) == "488.2 MiB"
    # a user's lower limit is never raised by it
    monkeypatch.setenv("NEWSETL_DUCKDB_MEMORY", "100MB")
    low = warehouse.connect(":memory:")
    with warehouse.memory_limit(low, "160MB"):
        assert warehouse.scalar(low, setting) == "95.3 MiB"


def test_size_bytes_reads_duckdbs_units():
    assert warehouse.size_bytes("512MB") == 512 * 10**6
    assert warehouse.size_bytes("1.5 GiB") == 1.5 * 2**30
    assert warehouse.size_bytes("100kb") == 10**5
    assert warehouse.size_bytes("80%") == float("inf")
