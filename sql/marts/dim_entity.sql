/*
kind: table
grain: [entity_id]
description: One row per entity mentioned anywhere: canonical Korean name, English name, type, Wikidata id, aliases, first and last seen, counts. Names not in the reference data are flagged discovered.
tags: [marts, entities]
columns:
    entity_id: varchar
    name: varchar
    name_en: varchar
    entity_type: varchar
    wikidata_id: varchar
    aliases: varchar[]
    first_seen: date
    last_seen: date
    article_count: bigint
    mention_count: bigint
*/
with

mentions as (
    select * from marts.fct_entity_mention
),

articles as (
    select article_id, coalesce(published_date, cast(ingested_at as date)) as seen_date from marts.dim_article
),

reference as (
    select * from staging.stg_reference_entities
),

discovered_names as (
    select
        entity_key as entity_id,
        mode(name) as name,
        mode(entity_type) as entity_type
    from intermediate.int_entity_mentions
    where reference_id is null and entity_type <> 'DATE'
    group by entity_key
),

observed as (
    select
        mentions.entity_id,
        min(articles.seen_date) as first_seen,
        max(articles.seen_date) as last_seen,
        count(distinct mentions.article_id) as article_count,
        count(*) as mention_count,
        list_sort(list_distinct(list(mentions.surface) filter (where mentions.method not in ('compound', 'dae_china')))) as surfaces
    from mentions
    inner join articles on mentions.article_id = articles.article_id
    group by mentions.entity_id
),

final as (
    select
        observed.entity_id,
        coalesce(reference.name, discovered_names.name) as name,
        reference.name_en,
        coalesce(reference.entity_type, discovered_names.entity_type) as entity_type,
        reference.wikidata_id,
        case
            when reference.entity_id is not null then reference.aliases
            else list_filter(observed.surfaces, lambda s: s <> discovered_names.name)
        end as aliases,
        reference.entity_id is null as discovered,
        observed.first_seen,
        observed.last_seen,
        observed.article_count,
        observed.mention_count
    from observed
    left join reference on observed.entity_id = reference.entity_id
    left join discovered_names on observed.entity_id = discovered_names.entity_id
)

select * from final
