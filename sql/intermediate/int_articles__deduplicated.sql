/*
kind: view
grain: [article_id]
description: The latest version of every source address, cleaned (intermediate.int_articles__cleaned), with its version and duplicate status (intermediate.int_articles__latest) - duplicate_of, duplicate_kind 'exact' or 'near', duplicate_similarity. A view: a run rebuilds the small table of keys, not a copy of every body.
tags: [articles]
*/
with

cleaned as (
    select * from intermediate.int_articles__cleaned
),

latest as (
    select * from intermediate.int_articles__latest
),

final as (
    select
        cleaned.*,
        latest.source_record,
        latest.ingested_at,
        latest.version,
        latest.duplicate_of,
        latest.duplicate_kind,
        latest.duplicate_similarity
    from latest
    inner join cleaned on latest.article_id = cleaned.article_id
)

select * from final
