/*
kind: view
description: Violations - entity and event mentions whose article is missing from dim_article (should be empty).
tags: [checks]
*/
with

entity_mentions as (
    select article_id, 'fct_entity_mention' as source from marts.fct_entity_mention
),

event_mentions as (
    select article_id, 'fct_event_mention' as source from marts.fct_event_mention
),

mentions as (
    select * from entity_mentions
    union all
    select * from event_mentions
),

final as (
    select mentions.*
    from mentions
    left join marts.dim_article as articles on mentions.article_id = articles.article_id
    where articles.article_id is null
)

select * from final
