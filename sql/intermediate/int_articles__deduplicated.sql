/*
kind: table
grain: [article_id]
description: Cleaned articles with duplicate_of set when an earlier article has the same cleaned body.
*/
with

cleaned as (
    select * from intermediate.int_articles__cleaned
),

raw_articles as (
    select article_id, ingested_at, source_record from staging.stg_articles
),

ranked as (
    select
        cleaned.*,
        raw_articles.ingested_at,
        first_value(cleaned.article_id) over (
            partition by cleaned.body_sha
            order by raw_articles.ingested_at, cleaned.source_path, raw_articles.source_record nulls first, cleaned.article_id
        ) as first_of_body
    from cleaned
    inner join raw_articles on cleaned.article_id = raw_articles.article_id
),

final as (
    select
        * exclude (first_of_body),
        case when first_of_body <> article_id then first_of_body end as duplicate_of
    from ranked
)

select * from final
