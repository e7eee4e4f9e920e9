/*
kind: table
grain: [article_id]
description: One row per article as its source holds it now - the latest version of each source address (source_path + source_record; earlier versions stay in raw.articles) - with cleaned body, publisher, title, publication date and where each came from, and duplicate_of / duplicate_kind (exact or near) for re-posts, which no fact is taken from. Rebuilt whole on every run, because a version or duplicate status changes when later articles arrive.
tags: [marts, articles]
columns:
    article_id: varchar
    source_path: varchar
    publisher: varchar
    title: varchar
    published_date: date
    published_date_source: varchar
    body: varchar
    char_count: bigint
    duplicate_of: varchar
    duplicate_kind: varchar
    ingested_at: timestamp
*/
with

articles as (
    select * from intermediate.int_articles__deduplicated
),

raw_articles as (
    select article_id, url, source_id, format, encoding, ingested_at from staging.stg_articles
),

final as (
    select
        -- ids
        articles.article_id,
        articles.source_path,
        articles.source_record,
        raw_articles.source_id,
        raw_articles.url,
        -- attributes
        articles.publisher,
        articles.publisher_source,
        articles.title,
        articles.published_date,
        articles.published_date_source,
        articles.body,
        length(articles.body) as char_count,
        articles.reporters,
        articles.emails as reporter_emails,
        raw_articles.format,
        raw_articles.encoding,
        -- versions and duplicates
        articles.version,
        articles.duplicate_of,
        articles.duplicate_kind,
        articles.duplicate_similarity,
        -- lineage
        raw_articles.ingested_at
    from articles
    inner join raw_articles on articles.article_id = raw_articles.article_id
)

select * from final
