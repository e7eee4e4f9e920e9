/*
kind: view
description: Violations - events dated more than 30 years from the publication date of an article that reports them (a date resolved from the wrong expression). Checked by expectations/event_date_far_from_article.json (warning).
tags: [checks]
*/
with

events as (
    select event_id, event_type, event_date, date_precision from marts.fct_event where event_date is not null
),

mentions as (
    select event_id, article_id, sentence_idx, evidence from marts.fct_event_mention
),

articles as (
    select article_id, published_date from marts.dim_article where published_date is not null
),

final as (
    select
        events.event_id,
        events.event_type,
        events.event_date,
        events.date_precision,
        articles.article_id,
        articles.published_date,
        mentions.sentence_idx,
        mentions.evidence
    from events
    inner join mentions on events.event_id = mentions.event_id
    inner join articles on mentions.article_id = articles.article_id
    where events.event_date < articles.published_date - interval 30 year
       or events.event_date > articles.published_date + interval 30 year
)

select * from final
