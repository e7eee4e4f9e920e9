"""Python models: the steps SQL is bad at (cleaning scraped text, Korean analysis, event clustering).

Each is a node of the same DAG as the SQL models, with declared inputs and outputs.
Analysis is incremental and keyed by content: a body already analysed is never analysed again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from functools import partial

import polars as pl

from newsetl import analysis, clean, clustering, dedup, events
from newsetl.models import Model
from newsetl.publishers import Publishers
from newsetl.warehouse import memory_limit, scalar, table_exists

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
def int_articles__cleaned(ctx) -> Iterator[pl.DataFrame]:
    table = "intermediate.int_articles__cleaned"
    done = f"where article_id not in (select article_id from {table})" \
        if table_exists(ctx.con, table) and not ctx.full_refresh else ""
    total = numbered(ctx, "_newsetl_cleaning_todo", f"select article_id from staging.stg_articles {done}",
                     order="article_id")
    publishers = Publishers.from_rows(ctx.frame("select * from reference.publishers").iter_rows(named=True))
    plausible = ctx.settings.plausible_dates()
    for first, last in chunks(ctx, total):
        new = ctx.frame("""
            select articles.article_id, articles.source_path, articles.title, articles.body, articles.metadata
            from staging.stg_articles as articles
            inner join _newsetl_cleaning_todo as todo on articles.article_id = todo.article_id
            where todo.n between ? and ?
            order by todo.n
        """, [first, last])
        # in this process even on a cluster: cleaning is light, and shipping raw bodies to workers costs more
        rows = [clean.clean_article(r, publishers, plausible) for r in new.iter_rows(named=True)]
        ctx.progress(f"cleaning: {min(last, total):,} of {total:,} articles")
        yield pl.DataFrame(rows, schema=clean.CLEANED_SCHEMA)


@python_model(
    "intermediate.int_article_signatures",
    inputs=["intermediate.int_articles__cleaned", "staging.stg_articles"],
    description="One row per distinct cleaned body: MinHash signature and LSH band hashes of its word "
                "shingles, and the earlier body it near-duplicates (estimated Jaccard at or above the "
                "threshold), decided once, when the body is first seen, against every body signed before.",
    grain=["body_sha"], incremental=True, tags=["python", "dedup"],
)
def int_article_signatures(ctx) -> Iterator[pl.DataFrame]:
    table = "intermediate.int_article_signatures"
    incremental = table_exists(ctx.con, table) and not ctx.full_refresh
    total = numbered(ctx, "_newsetl_signing_todo", f"""
        select cleaned.body_sha, cleaned.article_id, articles.ingested_at, cleaned.source_path, articles.source_record
        from intermediate.int_articles__cleaned as cleaned
        inner join staging.stg_articles as articles on cleaned.article_id = articles.article_id
        {f"where cleaned.body_sha not in (select body_sha from {table})" if incremental else ""}
        qualify row_number() over (partition by cleaned.body_sha order by articles.ingested_at,
            cleaned.source_path, articles.source_record nulls first, cleaned.article_id) = 1
    """, order="ingested_at, source_path, source_record nulls first, article_id")
    params = dedup.Params(permutations=ctx.settings.minhash_permutations, bands=ctx.settings.minhash_bands,
                          shingle_words=ctx.settings.shingle_words, threshold=ctx.settings.near_duplicate_threshold)
    for first, last in chunks(ctx, total):
        new = ctx.frame("""
            select todo.body_sha, todo.article_id, cleaned.body
            from _newsetl_signing_todo as todo
            inner join intermediate.int_articles__cleaned as cleaned on todo.article_id = cleaned.article_id
            where todo.n between ? and ?
            order by todo.n
        """, [first, last])
        # earlier chunks are already in the table: each body is matched against every body signed before it
        lookup = dedup.warehouse_lookup(ctx.con, table) if table_exists(ctx.con, table) else None
        ctx.progress(f"near-duplicates: {min(last, total):,} of {total:,} bodies")
        yield dedup.sign_and_match(new, lookup, params)


# DuckDB's memory while the analysis runs (see int_sentences); the project's limit otherwise
ANALYSIS_CACHE = "160MB"


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
def int_sentences(ctx) -> Iterator[dict[str, pl.DataFrame]]:
    table = "intermediate.int_sentences"
    done = "" if ctx.full_refresh or not table_exists(ctx.con, table) else f"and text_sha not in (select text_sha from {table})"
    ref = str(ctx.settings.reference_dir)
    # The texts stream from one scan, on a connection of their own (this one writes meanwhile): a query per
    # chunk read every text again to find its 2,000 (at 100k articles, 50 scans of ~0.5 GB).
    with ctx.con.cursor() as reader:
        reader.execute(f"""
            create temp table _newsetl_analysis_todo as
            select text_sha, min(article_id) as article_id
            from intermediate.int_articles__deduplicated
            where duplicate_of is null {done}
            group by text_sha
        """)
        total = scalar(reader, "select count(*) from _newsetl_analysis_todo")
        # DuckDB's cache is of little use to a long analysis, which reads each text once: held low, its memory
        # is the analysis workers' (~0.7 GB each; with the 512 MB cache this process held 1.1-1.25 GB here at
        # 100k, 0.8 without). A short one keeps it for the stages after it, which read every table.
        with memory_limit(ctx.con, ANALYSIS_CACHE) if total > chunk_size(ctx) else nullcontext():
            yield from _analyse(ctx, reader, total, ref)


def _analyse(ctx, reader, total: int, ref: str) -> Iterator[dict[str, pl.DataFrame]]:
    """The analysis of the texts of _newsetl_analysis_todo, chunk by chunk, as int_sentences' output."""
    reader.execute("""
        select cleaned.text_sha, cleaned.analysed_text
        from intermediate.int_articles__cleaned as cleaned
        semi join _newsetl_analysis_todo as todo on cleaned.article_id = todo.article_id
    """)
    analysed, chunk = 0, chunk_size(ctx)
    while True:  # at least once, so that an empty build still writes its tables
        items = reader.fetchmany(chunk)
        analysed += len(items)
        last = analysed >= total or len(items) < chunk  # the count reached, or the scan ended
        # a few batches per worker, so that one with long texts does not leave the others idle at the chunk's end
        size = max(1, min(ctx.settings.batch_articles, -(-len(items) // (ctx.settings.workers * 4))))
        batches = [items[i:i + size] for i in range(0, len(items), size)]
        # a partial of a module-level function pickles, so batches can run on Dask workers
        results = ctx.map_batches(partial(analysis.analyse_frames, reference_dir=ref), batches)
        ctx.progress(f"analysis: {analysed:,} of {total:,} texts")
        if last:
            analysis.release()  # the stages after this one get the analyzer's memory
        yield {
            "intermediate.int_sentences": pl.concat(
                [part[0] for part in results] or [pl.DataFrame(schema=analysis.SENTENCE_SCHEMA)], rechunk=False),
            "intermediate.int_entity_mentions": pl.concat(
                [part[1] for part in results] or [pl.DataFrame(schema=analysis.MENTION_SCHEMA)], rechunk=False),
        }
        if last:
            break


def numbered(ctx, name: str, query: str, order: str) -> int:
    """Materialize `query` as temp table `name` with a row number n (1-based) in `order`; its row count."""
    ctx.con.execute(f"create or replace temp table {name} as "
                    f"select *, row_number() over (order by {order}) as n from ({query})")
    return scalar(ctx.con, f"select count(*) from {name}")


def chunk_size(ctx) -> int:
    return max(ctx.settings.stream_articles, ctx.settings.batch_articles * ctx.settings.workers * 2)


def chunks(ctx, total: int) -> Iterator[tuple[int, int]]:
    """Row-number ranges of one streaming chunk each; at least one, so an empty build still writes its tables.

    A chunk is written before the next is read, so a run's memory does not grow with its size; it holds
    a few batches per worker, so that every worker has work until the chunk ends.
    """
    size = chunk_size(ctx)
    for first in range(1, max(total, 1) + 1, size):
        yield first, first + size - 1


@python_model(
    "intermediate.int_event_candidates",
    inputs=["intermediate.int_sentences", "intermediate.int_entity_mentions",
            "intermediate.int_articles__deduplicated", "reference.event_triggers", "reference.event_trigger_macros",
            "reference.event_contexts", "reference.organizations", "reference.people", "reference.countries"],
    outputs=["intermediate.int_event_candidates", "intermediate.int_event_candidates__inputs"],
    description="One row per event type reported by one clause of one article, with its arguments, "
                "resolved date, status and modality flags (background, negated, hypothetical, headline). "
                "Incremental by article: __inputs keeps the text and date each article's rows were read from.",
    grain=["article_id", "sentence_idx", "event_type", "trigger_start"], incremental=True, tags=["python", "events"],
)
def int_event_candidates(ctx) -> Iterator[dict[str, pl.DataFrame]]:
    table, inputs = "intermediate.int_event_candidates", "intermediate.int_event_candidates__inputs"
    # a copy of the article (same body, another file) may carry the publication date the kept one lacks
    ctx.con.execute("""
        create or replace temp table _newsetl_event_articles as
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
            coalesce(length(articles.title), 0)::integer as title_chars
        from intermediate.int_articles__deduplicated as articles
        left join copies on articles.article_id = copies.article_id
        where articles.duplicate_of is null
    """)
    todo = "_newsetl_event_articles"
    if not ctx.full_refresh and table_exists(ctx.con, table) and table_exists(ctx.con, inputs):
        # An article that became a duplicate, changed its text or got a date from a new copy loses its rows
        # and is read again; every other article keeps the rows it has.
        ctx.con.execute(f"""
            create or replace temp table _newsetl_event_stale as
            select * from {inputs} except select * from _newsetl_event_articles
        """)
        ctx.con.execute("begin transaction")  # rows and their record go together (chunks are committed as written)
        ctx.con.execute(f"delete from {table} where article_id in (select article_id from _newsetl_event_stale)")
        ctx.con.execute(f"delete from {inputs} where article_id in (select article_id from _newsetl_event_stale)")
        ctx.con.execute("commit")
        ctx.con.execute(f"""
            create or replace temp table _newsetl_event_todo as
            select * from _newsetl_event_articles except select * from {inputs}
        """)
        todo = "_newsetl_event_todo"
    total = numbered(ctx, "_newsetl_event_chunks", f"select * from {todo}", order="article_id")
    for first, last in chunks(ctx, total):
        chunk = f"(select * from _newsetl_event_chunks where n between {first} and {last})"
        articles = ctx.frame(f"select article_id, text_sha, published_date, title_chars from {chunk} order by n")
        sentences = ctx.frame("select text_sha, sentence_idx, char_start, text from intermediate.int_sentences "
                              f"where text_sha in (select text_sha from {chunk})")
        mentions = ctx.frame(f"select * from intermediate.int_entity_mentions where text_sha in (select text_sha from {chunk})")
        # in this process even on a cluster: on 3,000 articles shipping the documents to one Dask worker
        # took 39 s against 6.4 s here
        rows = events.event_candidates(articles, sentences, mentions, str(ctx.settings.reference_dir))
        ctx.progress(f"events: {min(last, total):,} of {total:,} articles")
        yield {table: pl.DataFrame(rows, schema=events.CANDIDATE_SCHEMA, orient="row"), inputs: articles}


@python_model(
    "intermediate.int_events",
    inputs=["intermediate.int_event_candidates"],
    description="Event candidates clustered into real-world events: same type, agreeing parties, "
                "compatible dates, or the same sentence re-posted; one event however many sentences and "
                "articles report it. is_primary marks the mention the event takes its date and mode from.",
    grain=["article_id", "sentence_idx", "event_type", "trigger_start"], tags=["python", "events"],
)
def int_events(ctx) -> pl.DataFrame:
    # in a total order: which clusters form depends on the order candidates are compared in
    candidates = ctx.frame("select * from intermediate.int_event_candidates "
                           "order by article_id, sentence_idx, trigger_start, event_type")
    return clustering.cluster_events(candidates)
