"""Python models: the steps SQL is bad at (cleaning scraped text, Korean analysis, event clustering).

Each is a node of the same DAG as the SQL models, with declared inputs and outputs.
Analysis is incremental and keyed by content: a body already analysed is never analysed again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import polars as pl

from newsetl import analysis, clean, clustering, events
from newsetl.models import Model
from newsetl.warehouse import table_exists

_REGISTRY: list[Model] = []


def python_model(name: str, *, inputs: list[str], outputs: list[str] | None = None, description: str,
                 grain: list[str], incremental: bool = False, tags: list[str] | None = None) -> Callable:
    def register(func: Callable) -> Callable:
        config = {"description": description, "grain": grain, "tags": tags or ["python"],
                  "materialized": "incremental" if incremental else "table"}
        _REGISTRY.append(Model(name=name, kind="python", config=config, depends_on=tuple(inputs),
                               outputs=tuple(outputs or [name]), func=func))
        return func
    return register


def python_models() -> list[Model]:
    return list(_REGISTRY)


@python_model(
    "intermediate.int_articles__cleaned",
    inputs=["staging.stg_articles"],
    description="One row per article: body without page chrome, repeats, captions and bylines; title, "
                "publisher and publication date from metadata or text.",
    grain=["article_id"], incremental=True, tags=["python", "cleaning"],
)
def int_articles__cleaned(ctx) -> pl.DataFrame:
    table = "intermediate.int_articles__cleaned"
    new = ctx.frame(f"""
        select * from staging.stg_articles
        where article_id not in (select article_id from {table})
    """ if table_exists(ctx.con, table) and not ctx.full_refresh else "select * from staging.stg_articles")
    rows = [clean.clean_article(r) for r in new.iter_rows(named=True)]
    return pl.DataFrame(rows, schema=clean.CLEANED_SCHEMA)


@python_model(
    "intermediate.int_sentences",
    inputs=["intermediate.int_articles__deduplicated", "reference.countries", "reference.organizations",
            "reference.people", "reference.locations", "reference.commodities", "reference.technologies",
            "reference.programs"],
    outputs=["intermediate.int_sentences", "intermediate.int_entity_mentions"],
    description="Sentences and typed entity mentions of each distinct analysed text (title + body), "
                "keyed by its hash so that a text is analysed once.",
    grain=["text_sha", "sentence_idx"], incremental=True, tags=["python", "nlp"],
)
def int_sentences(ctx) -> dict[str, pl.DataFrame]:
    table = "intermediate.int_sentences"
    done = "" if ctx.full_refresh or not table_exists(ctx.con, table) else f"and text_sha not in (select text_sha from {table})"
    todo = ctx.frame(f"""
        select distinct text_sha, analysed_text from intermediate.int_articles__deduplicated
        where duplicate_of is null {done} order by text_sha
    """)
    items = todo.rows()
    size = ctx.settings.batch_articles
    batches = [items[i:i + size] for i in range(0, len(items), size)]
    ref = str(ctx.settings.reference_dir)
    # a partial of a module-level function pickles, so batches can run on Dask workers
    results = ctx.map_batches(partial(analysis.analyse_batch, reference_dir=ref), batches)
    sentences = [row for part in results for row in part[0]]
    mentions = [row for part in results for row in part[1]]
    return {
        "intermediate.int_sentences": pl.DataFrame(sentences, schema=analysis.SENTENCE_SCHEMA, orient="row"),
        "intermediate.int_entity_mentions": pl.DataFrame(mentions, schema=analysis.MENTION_SCHEMA, orient="row"),
    }


@python_model(
    "intermediate.int_event_candidates",
    inputs=["intermediate.int_sentences", "intermediate.int_entity_mentions",
            "intermediate.int_articles__deduplicated", "reference.event_triggers", "reference.event_contexts"],
    description="One row per event type reported by one clause of one article, with its arguments, "
                "resolved date and status.",
    grain=["article_id", "sentence_idx", "event_type", "trigger_start"], tags=["python", "events"],
)
def int_event_candidates(ctx) -> pl.DataFrame:
    articles = ctx.frame("""
        select article_id, text_sha, published_date from intermediate.int_articles__deduplicated
        where duplicate_of is null order by article_id
    """)
    sentences = ctx.frame("select text_sha, sentence_idx, text from intermediate.int_sentences")
    mentions = ctx.frame("select * from intermediate.int_entity_mentions")
    rows = events.event_candidates(articles, sentences, mentions, str(ctx.settings.reference_dir))
    return pl.DataFrame(rows, schema=events.CANDIDATE_SCHEMA, orient="row")


@python_model(
    "intermediate.int_events",
    inputs=["intermediate.int_event_candidates"],
    description="Event candidates clustered into real-world events: same type, shared parties, "
                "compatible dates; one event however many sentences and articles report it.",
    grain=["article_id", "sentence_idx", "event_type", "trigger_start"], tags=["python", "events"],
)
def int_events(ctx) -> pl.DataFrame:
    candidates = ctx.frame("select * from intermediate.int_event_candidates order by article_id, sentence_idx")
    return clustering.cluster_events(candidates)
