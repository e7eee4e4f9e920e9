/*
kind: table
grain: [event_id]
description: One row per real-world event however many sentences and articles report it: PLOVER type, mode, date with precision, status, first report and article count.
*/
with

candidates as (
    select * from intermediate.int_events
),

dated as (
    select
        event_id,
        event_date,
        date_precision,
        row_number() over (
            partition by event_id
            order by case date_precision when 'day' then 0 when 'month' then 1 when 'year' then 2 else 3 end,
                     event_date
        ) as rank
    from candidates
),

events as (
    select
        event_id,
        any_value(event_type) as event_type,
        mode(mode) as mode,
        mode(context) as context,
        bool_and(status = 'planned') as all_planned,
        bool_and(is_background) as is_background,
        min(published_date) as first_reported_date,
        count(distinct article_id) as article_count,
        count(*) as mention_count,
        arg_min(evidence, article_id || lpad(cast(sentence_idx as varchar), 6, '0')) as first_evidence
    from candidates
    group by event_id
),

final as (
    select
        events.event_id,
        events.event_type,
        events.mode,
        dated.event_date,
        coalesce(dated.date_precision, 'none') as date_precision,
        case when events.all_planned then 'planned' else 'reported' end as status,
        left(events.first_evidence, 240) as summary,
        events.first_reported_date,
        events.article_count,
        events.mention_count,
        events.context,
        events.is_background
    from events
    left join dated on events.event_id = dated.event_id and dated.rank = 1
)

select * from final
