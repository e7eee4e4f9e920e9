/*
kind: table
grain: [article_id]
description: One row per article received: cleaned body, publisher, title, publication date and where it came from, duplicate_of for re-posts.
*/
with

articles as (
    select * from intermediate.int_articles__deduplicated
),

raw_articles as (
    select article_id, url, source_id, format, ingested_at from staging.stg_articles
),

final as (
    select
        -- ids
        articles.article_id,
        articles.source_path,
        raw_articles.source_id,
        raw_articles.url,
        -- attributes
        articles.publisher,
        articles.title,
        articles.published_date,
        articles.published_date_source,
        articles.body,
        length(articles.body) as char_count,
        articles.reporters,
        raw_articles.format,
        -- duplicates
        articles.duplicate_of,
        -- lineage
        raw_articles.ingested_at
    from articles
    inner join raw_articles on articles.article_id = raw_articles.article_id
)

select * from final
