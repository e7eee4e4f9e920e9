/*
kind: table
grain: [event_id, article_id, sentence_idx]
description: One row per sentence that reports an event, with the sentence itself as evidence.
*/
with

candidates as (
    select * from intermediate.int_events
),

final as (
    select
        event_id,
        article_id,
        sentence_idx,
        any_value(evidence) as evidence,
        string_agg(distinct trigger_text, ', ') as trigger_text,
        any_value(date_text) as date_text,
        bool_or(status = 'planned') as planned,
        bool_and(is_background) as is_background
    from candidates
    group by event_id, article_id, sentence_idx
)

select * from final
