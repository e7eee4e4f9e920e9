"""`newsetl models list | show | lineage [--column] | docs` on a copy of the sample warehouse."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import newsetl
from rich.console import Console

from newsetl import introspect
from newsetl.config import Settings
from newsetl.docs import layout, write_docs
from newsetl.models import ModelError


@pytest.fixture(scope="module")
def settings(sample_run, tmp_path_factory) -> Settings:
    db, _ = sample_run
    copy = tmp_path_factory.mktemp("introspect") / "newsetl.duckdb"
    shutil.copyfile(db, copy)
    return Settings().with_(db=copy)


def test_list_shows_models_in_build_order_with_kind_and_rows(settings):
    console = Console(record=True, width=220)
    console.print(introspect.models_table(settings))
    text = console.export_text()
    lines = {ln.split("│")[2].strip(): ln for ln in text.splitlines() if ln.count("│") > 6}
    order = list(lines)
    assert order.index("raw.articles") < order.index("staging.stg_articles") < order.index("marts.dim_article")
    assert "│ table " in lines["marts.dim_article"] and "marts, articles" in lines["marts.dim_article"]
    assert re.search(r"│\s+5 │$", lines["marts.dim_article"].rstrip())
    assert "python (incremental)" in lines["intermediate.int_sentences"]


def test_list_in_a_narrow_terminal_squeezes_no_column_to_nothing(settings):
    # at 80 columns, two unbreakable columns once took 71 of them: kind, tags, last run and rows showed empty
    console = Console(record=True, width=80)
    console.print(introspect.models_table(settings))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    header = next(line for line in text.splitlines() if "model" in line and "rows" in line)
    assert [cell.strip() for cell in header.split("┃")[1:-1]] == ["#", "model", "kind", "tags", "last built",
                                                                  "last run", "rows"]
    first = next(line for line in text.splitlines() if line.startswith("│  1 │"))
    assert re.search(r"│\s+5 │$", first) and "source" in first  # raw.articles: its kind and rows, whole


def test_show_gives_file_config_columns_rows_and_sql(settings):
    text = introspect.show_model(settings, "dim_article")
    assert text.startswith("marts.dim_article  (table)")
    assert "\nfile: sql/marts/dim_article.sql\n" in text
    assert "marts.dim_article: 5 rows" in text
    assert re.search(r"char_count\s+BIGINT  \(contract\)", text)
    assert "used by: " in text and "marts.dim_entity" in text
    assert "select * from final" in text


def test_lineage_lists_upstream_and_downstream(settings):
    text = introspect.lineage(settings, "dim_entity")
    up, down = text.split("downstream")
    assert re.search(r"marts\.fct_entity_mention\s+table  \(direct\)", up)
    assert "raw.articles" in up and "reference.people" in up
    assert "checks.participant_without_entity" in down


def test_column_lineage_follows_the_column_across_models(settings):
    root = introspect.column_lineage(settings, "dim_entity", "name")
    children = {c.label: c for c in root.children}
    assert set(children) == {"staging.stg_reference_entities.name", "intermediate.int_entity_mentions.name"}
    seeds = {c.label for c in children["staging.stg_reference_entities.name"].children}
    assert {"reference.countries.name", "reference.people.name", "reference.organizations.name"} <= seeds
    tree = introspect.render_tree(root)
    assert tree.splitlines()[0] == "marts.dim_entity.name  (table)"
    char_count = introspect.column_lineage(settings, "dim_article", "char_count")
    assert [c.label for c in char_count.children] == ["intermediate.int_articles__deduplicated.body"]
    with pytest.raises(ModelError, match="no lineage for column 'nope'"):
        introspect.column_lineage(settings, "dim_entity", "nope")


def test_docs_page_is_self_contained(settings, tmp_path):
    path = write_docs(settings, tmp_path / "models.html")
    html = path.read_text(encoding="utf-8")
    assert html.count("<svg") == 1 and '<a href="#m-marts-dim_article">' in html
    assert re.findall(r"(?:src|href)=\"https?://", html) == []  # nothing fetched from anywhere
    assert "<script" not in html
    assert 'id="m-marts-fct_event"' in html and "char_count" in html
    graph = introspect.graph_of(settings)
    places = layout(graph)
    for name in graph.order:  # every arrow points right: a model sits after everything it reads
        assert all(places[p][0] < places[name][0] for p in graph.parents(name))


def test_cli_models_commands(settings, tmp_path):
    db = str(settings.db)
    tree = newsetl("models", "lineage", "dim_entity", "--column", "name", "--db", db)
    assert tree.returncode == 0, tree.stderr
    assert "└── " in tree.stdout and "reference.countries.name  (seed)" in tree.stdout
    unknown = newsetl("models", "show", "no_such_model", "--db", db)
    assert unknown.returncode == 2 and "no model named 'no_such_model'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    docs = newsetl("models", "docs", "--db", db, "--output", str(tmp_path / "d.html"))
    assert docs.returncode == 0 and Path(tmp_path / "d.html").exists()
