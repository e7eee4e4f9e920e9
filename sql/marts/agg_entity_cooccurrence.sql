/*
kind: table
grain: [entity_id_a, entity_id_b]
description: Pairs of entities taking part in the same factual events (entity_id_a < entity_id_b): how many events, of which types, and the first and last event dates (the first report when an event is undated).
tags: [marts, entities, events]
*/
with

participants as (
    select * from marts.fct_event_participant
),

events as (
    select
        event_id,
        event_type,
        coalesce(event_date, first_reported_date) as seen_date
    from marts.fct_event
    where is_fact
),

entities as (
    select entity_id, name, entity_type from marts.dim_entity
),

pairs as (
    select
        a.entity_id as entity_id_a,
        b.entity_id as entity_id_b,
        a.event_id,
        a.role as role_a,
        b.role as role_b
    from participants as a
    inner join participants as b on a.event_id = b.event_id and a.entity_id < b.entity_id
),

final as (
    select
        -- grain
        pairs.entity_id_a,
        pairs.entity_id_b,
        -- names, for reading
        any_value(entity_a.name) as name_a,
        any_value(entity_b.name) as name_b,
        any_value(entity_a.entity_type) as entity_type_a,
        any_value(entity_b.entity_type) as entity_type_b,
        -- measures
        count(distinct pairs.event_id) as event_count,
        count(distinct pairs.event_id) filter (
            where pairs.role_a in ('actor', 'target') and pairs.role_b in ('actor', 'target')
        ) as party_event_count,
        list_sort(list_distinct(list(events.event_type))) as event_types,
        min(events.seen_date) as first_date,
        max(events.seen_date) as last_date
    from pairs
    inner join events on pairs.event_id = events.event_id
    inner join entities as entity_a on pairs.entity_id_a = entity_a.entity_id
    inner join entities as entity_b on pairs.entity_id_b = entity_b.entity_id
    group by pairs.entity_id_a, pairs.entity_id_b
)

select * from final
