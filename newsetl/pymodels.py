"""Python models: the steps SQL is bad at (cleaning scraped text, Korean analysis, event clustering).

Each is a node of the same DAG as the SQL models, with declared inputs and outputs.
Analysis is incremental and keyed by content: a body already analysed is never analysed again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import polars as pl

from newsetl import analysis, clean, clustering, dedup, events
from newsetl.models import Model
from newsetl.publishers import Publishers
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
    inputs=["staging.stg_articles", "reference.publishers"],
    description="One row per article version: body without page chrome, repeats, captions and bylines; "
                "title; publisher from metadata, else the text (copyright, byline, e-mail, sign-off), else "
                "the file name; publication date from metadata, else the text, else the URL or file name.",
    grain=["article_id"], incremental=True, tags=["python", "cleaning"],
)
def int_articles__cleaned(ctx) -> pl.DataFrame:
    table = "intermediate.int_articles__cleaned"
    new = ctx.frame(f"""
        select article_id, source_path, title, body, metadata from staging.stg_articles
        where article_id not in (select article_id from {table})
    """ if table_exists(ctx.con, table) and not ctx.full_refresh else
        "select article_id, source_path, title, body, metadata from staging.stg_articles")
    publishers = Publishers.from_rows(ctx.frame("select * from reference.publishers").iter_rows(named=True))
    items = list(new.iter_rows(named=True))
    batches = [items[i:i + 2000] for i in range(0, len(items), 2000)]
    plausible = ctx.settings.plausible_dates()
    parts = ctx.map_batches(lambda batch: [clean.clean_article(r, publishers, plausible) for r in batch], batches)
    return pl.DataFrame([row for part in parts for row in part], schema=clean.CLEANED_SCHEMA)


@python_model(
    "intermediate.int_article_signatures",
    inputs=["intermediate.int_articles__cleaned", "staging.stg_articles"],
    description="One row per distinct cleaned body: MinHash signature and LSH band hashes of its word "
                "shingles, and the earlier body it near-duplicates (estimated Jaccard at or above the "
                "threshold), decided once, when the body is first seen, against every body signed before.",
    grain=["body_sha"], incremental=True, tags=["python", "dedup"],
)
def int_article_signatures(ctx) -> pl.DataFrame:
    table = "intermediate.int_article_signatures"
    incremental = table_exists(ctx.con, table) and not ctx.full_refresh
    new = ctx.frame(f"""
        select cleaned.body_sha, cleaned.article_id, cleaned.body
        from intermediate.int_articles__cleaned as cleaned
        inner join staging.stg_articles as articles on cleaned.article_id = articles.article_id
        {f"where cleaned.body_sha not in (select body_sha from {table})" if incremental else ""}
        qualify row_number() over (partition by cleaned.body_sha order by articles.ingested_at,
            cleaned.source_path, articles.source_record nulls first, cleaned.article_id) = 1
        order by articles.ingested_at, cleaned.source_path, articles.source_record nulls first, cleaned.article_id
    """)
    params = dedup.Params(permutations=ctx.settings.minhash_permutations, bands=ctx.settings.minhash_bands,
                          shingle_words=ctx.settings.shingle_words, threshold=ctx.settings.near_duplicate_threshold)
    return dedup.sign_and_match(new, dedup.warehouse_lookup(ctx.con, table) if incremental else None, params)


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
            "intermediate.int_articles__deduplicated", "reference.event_triggers", "reference.event_trigger_macros",
            "reference.event_contexts", "reference.organizations", "reference.people", "reference.countries"],
    description="One row per event type reported by one clause of one article, with its arguments, "
                "resolved date, status and modality flags (background, negated, hypothetical, headline).",
    grain=["article_id", "sentence_idx", "event_type", "trigger_start"], tags=["python", "events"],
)
def int_event_candidates(ctx) -> pl.DataFrame:
    # a copy of the article (same body, another file) may carry the publication date the kept one lacks
    articles = ctx.frame("""
        with copies as (
            select duplicate_of as article_id, min(published_date) as copy_date
            from intermediate.int_articles__deduplicated
            where duplicate_of is not null
            group by duplicate_of
        )
        select
            articles.article_id,
            articles.text_sha,
            coalesce(articles.published_date, copies.copy_date) as published_date,
            coalesce(length(articles.title), 0) as title_chars
        from intermediate.int_articles__deduplicated as articles
        left join copies on articles.article_id = copies.article_id
        where articles.duplicate_of is null
        order by articles.article_id
    """)
    sentences = ctx.frame("select text_sha, sentence_idx, char_start, text from intermediate.int_sentences")
    mentions = ctx.frame("select * from intermediate.int_entity_mentions")
    rows = events.event_candidates(articles, sentences, mentions, str(ctx.settings.reference_dir),
                                   map_batches=ctx.map_batches, batch_size=ctx.settings.batch_articles)
    return pl.DataFrame(rows, schema=events.CANDIDATE_SCHEMA, orient="row")


@python_model(
    "intermediate.int_events",
    inputs=["intermediate.int_event_candidates"],
    description="Event candidates clustered into real-world events: same type, agreeing parties, "
                "compatible dates, or the same sentence re-posted; one event however many sentences and "
                "articles report it. is_primary marks the mention the event takes its date and mode from.",
    grain=["article_id", "sentence_idx", "event_type", "trigger_start"], tags=["python", "events"],
)
def int_events(ctx) -> pl.DataFrame:
    candidates = ctx.frame("select * from intermediate.int_event_candidates order by article_id, sentence_idx")
    return clustering.cluster_events(candidates)
