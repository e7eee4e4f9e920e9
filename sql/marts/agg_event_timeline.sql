/*
kind: table
grain: [month, event_type, context]
description: Events per month, PLOVER type and context (semiconductors, critical_minerals, ai, batteries, trade ...): factual events only, split by status, with background and negated/hypothetical mentions counted apart. The month is the event's own when dated to a day or month, else the month of its first report.
tags: [marts, events]
*/
with

events as (
    select * from marts.fct_event
),

placed as (
    select
        *,
        case
            when date_precision in ('day', 'month') then date_trunc('month', event_date)
            else date_trunc('month', first_reported_date)
        end as month,
        date_precision in ('day', 'month') as dated_by_event
    from events
),

final as (
    select
        -- grain
        cast(month as date) as month,
        event_type,
        coalesce(context, 'other') as context,
        -- measures: new facts first, the rest apart
        count(*) filter (where is_fact and not is_background) as events,
        count(*) filter (where is_fact and not is_background and status = 'reported') as events_reported,
        count(*) filter (where is_fact and not is_background and status = 'planned') as events_planned,
        count(*) filter (where is_fact and is_background) as events_background,
        count(*) filter (where not is_fact) as events_negated_or_hypothetical,
        count(*) filter (where not dated_by_event) as events_dated_by_report,
        sum(article_count) as articles,
        sum(mention_count) as mentions
    from placed
    where month is not null
    group by all
)

select * from final
