/*
kind: table
grain: [entity_id]
description: Every reference entity of seeds/reference in one shape; aliases as a list.
tags: [staging, entities]
*/
with

countries as (
    select entity_id, name, name_en, entity_type, wikidata_id, aliases, 'countries' as seed from reference.countries
),

organizations as (
    select entity_id, name, name_en, entity_type, wikidata_id, aliases, 'organizations' as seed from reference.organizations
),

people as (
    select entity_id, name, name_en, entity_type, wikidata_id, aliases, 'people' as seed from reference.people
),

locations as (
    select entity_id, name, name_en, entity_type, wikidata_id, aliases, 'locations' as seed from reference.locations
),

commodities as (
    select entity_id, name, name_en, entity_type, wikidata_id, aliases, 'commodities' as seed from reference.commodities
),

technologies as (
    select entity_id, name, name_en, entity_type, wikidata_id, aliases, 'technologies' as seed from reference.technologies
),

programs as (
    select entity_id, name, name_en, entity_type, wikidata_id, aliases, 'programs' as seed from reference.programs
),

unioned as (
    select * from countries
    union all select * from organizations
    union all select * from people
    union all select * from locations
    union all select * from commodities
    union all select * from technologies
    union all select * from programs
),

final as (
    select
        entity_id,
        name,
        nullif(name_en, '') as name_en,
        upper(entity_type) as entity_type,
        nullif(wikidata_id, '') as wikidata_id,
        list_filter(string_split(coalesce(aliases, ''), '|'), lambda a: a <> '') as aliases,
        seed
    from unioned
)

select * from final
