/*
kind: table
grain: [event_id, article_id, sentence_idx]
description: One row per sentence that reports an event, with the sentence itself as evidence, the trigger words, the date expression, and how the sentence reports it (planned, background, negated, hypothetical, headline, back-reference such as '이번 회담').
tags: [marts, events]
columns:
    event_id: varchar
    article_id: varchar
    sentence_idx: integer
    evidence: varchar
*/
with

mentions as (
    select * from intermediate.int_events
),

final as (
    select
        -- ids
        event_id,
        article_id,
        sentence_idx,
        -- evidence
        any_value(evidence) as evidence,
        string_agg(distinct trigger_text, ', ' order by trigger_text) as trigger_text,
        string_agg(distinct mode, ', ' order by mode) as mode,
        any_value(date_text) filter (where date_text is not null) as date_text,
        -- how this sentence reports it
        bool_or(status = 'planned') as planned,
        bool_or(is_background) as is_background,
        bool_and(is_negated) as is_negated,
        bool_and(is_hypothetical) as is_hypothetical,
        bool_or(is_title) as is_title,
        bool_or(is_anaphoric) as is_anaphoric,
        bool_or(is_primary) as is_primary
    from mentions
    group by event_id, article_id, sentence_idx
)

select * from final
