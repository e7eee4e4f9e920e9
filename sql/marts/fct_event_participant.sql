/*
kind: table
grain: [event_id, entity_id]
description: One row per entity taking part in an event, with its role (actor, target, location, topic) and in how many of the event's mentions it appears.
tags: [marts, events]
columns:
    event_id: varchar
    entity_id: varchar
    role: varchar
*/
with

mentions as (
    select event_id, article_id, sentence_idx, unnest(participants) as participant from intermediate.int_events
),

entities as (
    select entity_id from marts.dim_entity
),

roles as (
    select
        event_id,
        article_id,
        sentence_idx,
        participant.entity_key as entity_id,
        participant.role as role
    from mentions
),

final as (
    select
        event_id,
        entity_id,
        -- the strongest role any report gives it: an actor somewhere is an actor
        arg_min(role, case role when 'actor' then 0 when 'target' then 1 when 'location' then 2 else 3 end) as role,
        count(distinct (article_id, sentence_idx)) as mention_count
    from roles
    -- a participant is an entity of the warehouse (the contract checks it); a country read off a
    -- compound ('미·멕시코') that no mention named yet waits until one does
    inner join entities using (entity_id)
    group by event_id, entity_id
)

select * from final
