/*
kind: view
grain: [article_id]
description: One row per raw article with the source's own metadata fields as typed columns.
tags: [staging, articles]
*/
with

articles as (
    select * from raw.articles
),

final as (
    select
        -- ids
        article_id,
        source_path,
        source_record,
        content_sha256,
        -- source
        format,
        encoding,
        title,
        body,
        metadata,
        json_extract_string(metadata, '$.id') as source_id,
        json_extract_string(metadata, '$.url') as url,
        coalesce(json_extract_string(metadata, '$.source'), json_extract_string(metadata, '$.publisher')) as source_name,
        coalesce(json_extract_string(metadata, '$.published_at'), json_extract_string(metadata, '$.date')) as published_at_raw,
        -- lineage
        ingested_at,
        run_id
    from articles
)

select * from final
