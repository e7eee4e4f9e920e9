"""The model graph: headers, sqlglot dependencies, DAG errors that name the file, selection, fingerprints."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from newsetl.config import Settings
from newsetl.models import (
    Model,
    ModelError,
    analyse_sql,
    build_graph,
    discover_sql,
    load_graph,
    parse_header,
    python_code_hash,
    python_code_modules,
    sql_dependencies,
    sql_model,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def private_parse_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSETL_CACHE_DIR", str(tmp_path / "cache"))


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_header_lists_blocks_and_continuations():
    config = parse_header("""/*
kind: incremental        -- merge
unique_key: [article_id, sentence_idx]
time_column: ingested_at
grain: article_id
description: One row per
    sentence of an article.
tags: [marts, events]
columns:
    article_id: varchar
    participants: struct(entity_key varchar, role varchar)[]
*/
select 1""")
    assert config == {
        "kind": "incremental", "unique_key": ["article_id", "sentence_idx"], "time_column": "ingested_at",
        "grain": ["article_id"], "description": "One row per sentence of an article.", "tags": ["marts", "events"],
        "columns": {"article_id": "varchar", "participants": "struct(entity_key varchar, role varchar)[]"},
    }
    assert parse_header("select 1") == {}


def test_misspelt_header_key_names_file_and_line():
    with pytest.raises(ModelError) as err:
        parse_header("/*\nkind: incremental\nuniqe_key: [id]\n*/\nselect 1", "sql/marts/x.sql")
    assert str(err.value).startswith("sql/marts/x.sql:3: unknown header key 'uniqe_key'")


def test_bad_config_is_refused(tmp_path):
    path = write(tmp_path, "sql/marts/m.sql", "/*\nkind: incremental\n*/\nselect 1 as id")
    with pytest.raises(ModelError, match="needs unique_key or time_column"):
        sql_model(path)
    write(tmp_path, "sql/marts/m.sql", "/*\nkind: table\nunique_key: [id]\n*/\nselect 1 as id")
    with pytest.raises(ModelError, match="apply to kind: incremental only"):
        sql_model(path)
    write(tmp_path, "sql/marts/m.sql", "/*\nkind: snapshot\n*/\nselect 1 as id")
    with pytest.raises(ModelError, match="unknown kind 'snapshot'"):
        sql_model(path)


def test_dependencies_exclude_ctes_and_table_functions_and_keep_lines():
    info = analyse_sql("""with
a as (select * from staging.stg_articles),
b as (select * from read_csv('x.csv'))
select * from a
join marts.dim_entity as e on true
join a as again on true""", cache=False)
    assert info.deps == {"staging.stg_articles": 2, "marts.dim_entity": 5}
    assert sql_dependencies("select * from raw.articles union all select * from raw.articles") == {"raw.articles"}


def test_normalized_hash_ignores_comments_and_layout_but_not_literals():
    base = analyse_sql("select a, 'x  y' as b from t", cache=False).normalized
    assert analyse_sql("/* note */\nselect a,\n    'x  y' as b -- why\nfrom t", cache=False).normalized == base
    assert analyse_sql("select a, 'x y' as b from t", cache=False).normalized != base


def test_a_model_is_one_query(tmp_path):
    path = write(tmp_path, "sql/marts/m.sql", "create table marts.m as select 1")
    with pytest.raises(ModelError, match="found CREATE"):
        sql_model(path)
    write(tmp_path, "sql/marts/m.sql", "select 1; select 2")
    with pytest.raises(ModelError, match="found 2 statements"):
        sql_model(path)
    write(tmp_path, "sql/marts/m.sql", "/*\nkind: table\n*/\nselect a,\nfrom (select")
    with pytest.raises(ModelError, match=r"m\.sql:5: cannot parse SQL"):
        sql_model(path)


def test_unknown_table_names_file_and_line(tmp_path):
    write(tmp_path, "sql/staging/s.sql", "select * from raw.articles")
    write(tmp_path, "sql/marts/m.sql", "/*\nkind: table\n*/\nselect *\nfrom staging.s\njoin staging.nope on true")
    with pytest.raises(ModelError) as err:
        build_graph(discover_sql(tmp_path / "sql"))
    assert str(err.value).endswith("sql/marts/m.sql:6: reads unknown table 'staging.nope'")


def test_cycle_names_every_file(tmp_path):
    write(tmp_path, "sql/marts/a.sql", "select * from marts.b")
    write(tmp_path, "sql/marts/b.sql", "select * from marts.a")
    with pytest.raises(ModelError) as err:
        build_graph(discover_sql(tmp_path / "sql"))
    message = str(err.value)
    assert "dependency cycle" in message and "a.sql" in message and "b.sql" in message


def _toy_graph(tmp_path):
    write(tmp_path, "sql/staging/s.sql", "/*\ntags: [staging]\n*/\nselect * from raw.articles")
    write(tmp_path, "sql/marts/a.sql", "/*\nkind: table\ntags: [events]\n*/\nselect * from staging.s")
    write(tmp_path, "sql/marts/b.sql", "/*\nkind: table\ntags: [events]\n*/\nselect * from marts.a")
    write(tmp_path, "sql/marts/c.sql", "/*\nkind: table\n*/\nselect * from staging.s")
    return build_graph(discover_sql(tmp_path / "sql"))


def test_selection(tmp_path):
    graph = _toy_graph(tmp_path)
    assert graph.select(["a"]) == ["marts.a"]
    assert graph.select(["+a"]) == ["raw.articles", "staging.s", "marts.a"]
    assert graph.select(["s+"]) == [n for n in graph.order if n in {"staging.s", "marts.a", "marts.b", "marts.c"}]
    assert graph.select(["s+"]).index("marts.a") < graph.select(["s+"]).index("marts.b")
    assert graph.select(["tag:events"]) == ["marts.a", "marts.b"]
    assert graph.select(["b,c"]) == [n for n in graph.order if n in ("marts.b", "marts.c")]
    assert graph.select(["marts.c", "tag:staging"]) == ["staging.s", "marts.c"]
    with pytest.raises(ModelError, match="--select zz: no model named 'zz'"):
        graph.select(["zz"])
    with pytest.raises(ModelError, match="no model has the tag 'nope'"):
        graph.select(["tag:nope"])


def test_lineage_hash_follows_upstream_definitions_not_data(tmp_path):
    before = _toy_graph(tmp_path)
    write(tmp_path, "sql/marts/a.sql", "/*\nkind: table\ntags: [events]\n*/\nselect *, 1 as x from staging.s")
    after = build_graph(discover_sql(tmp_path / "sql"))
    assert after.lineage_hash("marts.b") != before.lineage_hash("marts.b")
    assert after.lineage_hash("marts.c") == before.lineage_hash("marts.c")
    # descriptions and tags document; they do not change what is built
    write(tmp_path, "sql/marts/c.sql", "/*\nkind: table\ndescription: C.\ntags: [x]\n*/\nselect * from staging.s")
    again = build_graph(discover_sql(tmp_path / "sql"))
    assert again.models["marts.c"].definition == after.models["marts.c"].definition


def _function_from(tmp_path: Path, module: str, source: str):
    import importlib.util

    path = write(tmp_path, f"{module}.py", source)
    spec = importlib.util.spec_from_file_location(module, path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded.model


def test_python_model_definition_ignores_docstring_and_decorator_but_not_code(tmp_path):
    base = _function_from(tmp_path, "mod_a", 'def model(ctx):\n    """One."""\n    return ctx.frame("select 1")\n')
    documented = _function_from(tmp_path, "mod_b", 'import functools\n\n@functools.cache\ndef model(ctx):\n'
                                '    """Another, longer docstring."""\n    return ctx.frame("select 1")\n')
    changed = _function_from(tmp_path, "mod_c", 'def model(ctx):\n    """One."""\n    return ctx.frame("select 2")\n')

    def definition(func) -> str:
        graph = build_graph([Model(name="intermediate.x", kind="python", func=func, outputs=("intermediate.x",))])
        return graph.models["intermediate.x"].definition

    assert definition(base) == definition(documented.__wrapped__)
    assert definition(base) != definition(changed)


def test_python_models_hash_the_modules_they_call():
    from newsetl import pymodels

    models = {m.name: m for m in pymodels.python_models()}
    # int_events calls clustering, int_event_candidates calls events: an edit to one rebuilds only its model
    assert python_code_hash(models["intermediate.int_events"].func) != \
        python_code_hash(models["intermediate.int_event_candidates"].func)
    assert python_code_hash(models["intermediate.int_events"].func) == \
        python_code_hash(models["intermediate.int_events"].func)


def test_a_python_models_code_includes_its_helpers_and_what_they_call(tmp_path):
    # int_sentences hands its work to pymodels._analyse, a helper in the runner's own module: that helper, and
    # the modules it calls (the recognizer), are the model's code all the same
    from newsetl import pymodels

    models = {m.name: m for m in pymodels.python_models()}
    assert {"newsetl.analysis", "newsetl.ner", "newsetl.nlp", "newsetl.entities", "newsetl.gazetteer"} <= \
        set(python_code_modules(models["intermediate.int_sentences"].func))
    assert python_code_modules(models["intermediate.int_events"].func) == ["newsetl.clustering"]

    def toy(version: str, helper_body: str) -> str:
        path = tmp_path / version / "toy_models.py"
        path.parent.mkdir()
        path.write_text(f"def helper(x):\n    return {helper_body}\n\n\ndef model(ctx):\n    return helper(ctx)\n")
        spec = importlib.util.spec_from_file_location("toy_models", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return python_code_hash(module.model)

    assert toy("v1", "x + 1") == toy("v1-again", "x + 1")
    assert toy("v1-once-more", "x + 1") != toy("v2", "x + 2")  # only the helper changed


def test_parse_cache_is_used_on_the_second_load(tmp_path, monkeypatch):
    write(tmp_path, "sql/staging/s.sql", "select * from raw.articles")
    first = discover_sql(tmp_path / "sql")
    import newsetl.models as models

    monkeypatch.setattr(models, "_CACHE", models._ParseCache())  # a new process: only the disk cache

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(models, "_parse_sql", no_parsing)
    second = discover_sql(tmp_path / "sql")
    assert second[0].depends_on == first[0].depends_on == ("raw.articles",)
    assert second[0].definition == first[0].definition


def test_the_project_graph_loads_and_every_sql_model_documents_itself():
    settings = Settings()
    graph = load_graph(settings.sql_dir, settings.reference_dir)
    assert load_graph(settings.sql_dir, settings.reference_dir) is graph  # parsed once per process
    sql_models = [m for m in graph.models.values() if m.path and m.path.suffix == ".sql"]
    assert len(sql_models) >= 12
    for model in sql_models:
        assert model.description, f"{model.origin}: header needs a description"
        assert model.sql.lstrip().startswith("/*"), f"{model.origin}: header comment first"
    for mart in ("dim_article", "dim_entity", "fct_entity_mention", "fct_event", "fct_event_mention",
                 "fct_event_participant"):
        assert graph.models[f"marts.{mart}"].columns, f"marts.{mart} declares its public columns"
    assert graph.models["intermediate.int_sentences"].incremental
    assert graph.resolve("int_entity_mentions") == "intermediate.int_sentences"
    assert graph.parents("marts.fct_event") == ["intermediate.int_events"]


def test_a_python_model_is_built_after_the_sql_models_ready_beside_it():
    # The analysis workers analyse ahead until int_sentences asks for their texts: the marts that do not read
    # the analysis are built while they do, not after it
    graph = load_graph(ROOT / "sql", ROOT / "seeds" / "reference")
    order = graph.order
    assert order.index("marts.dim_article") < order.index("intermediate.int_sentences")
    assert order.index("checks.duplicate_without_original") < order.index("intermediate.int_sentences")
    for name in order:  # and every model still comes after what it reads
        for parent in graph.parents(name):
            assert order.index(parent) < order.index(name), (parent, name)
