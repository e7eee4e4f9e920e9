/*
kind: table
grain: [event_id, entity_id]
description: One row per entity taking part in an event, with its role (actor, target, location, topic).
*/
with

candidates as (
    select event_id, unnest(participants) as participant from intermediate.int_events
),

roles as (
    select
        event_id,
        participant.entity_key as entity_id,
        participant.role as role
    from candidates
),

final as (
    select
        event_id,
        entity_id,
        arg_min(role, case role when 'actor' then 0 when 'target' then 1 when 'location' then 2 else 3 end) as role
    from roles
    group by event_id, entity_id
)

select * from final
