/*
kind: view
description: Violations - articles marked as duplicates of an article that is missing from dim_article or of themselves (should be empty).
tags: [checks]
*/
with

duplicates as (
    select article_id, duplicate_of from marts.dim_article where duplicate_of is not null
),

articles as (
    select article_id from marts.dim_article
),

final as (
    select duplicates.*
    from duplicates
    left join articles on duplicates.duplicate_of = articles.article_id
    where articles.article_id is null or duplicates.duplicate_of = duplicates.article_id
)

select * from final
