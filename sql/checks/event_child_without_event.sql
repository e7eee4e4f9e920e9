/*
kind: view
description: Violations - event participants and event mentions whose event is missing from fct_event (should be empty).
tags: [checks]
*/
with

participants as (
    select event_id, 'fct_event_participant' as source from marts.fct_event_participant
),

mentions as (
    select event_id, 'fct_event_mention' as source from marts.fct_event_mention
),

children as (
    select * from participants
    union all
    select * from mentions
),

final as (
    select children.*
    from children
    left join marts.fct_event as events on children.event_id = events.event_id
    where events.event_id is null
)

select * from final
