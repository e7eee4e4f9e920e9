/*
kind: table
grain: [person_id, title, organization_id]
description: One row per role a person is reported in (title and the organization or country it belongs to, as the sentences give them), with the first and last date it was seen and how many articles report it.
tags: [marts, entities]
columns:
    person_id: varchar
    person_name: varchar
    title: varchar
    organization_id: varchar
    organization_name: varchar
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

entities as (
    select entity_id, name from marts.dim_entity
),

roles as (
    select
        mentions.entity_id as person_id,
        coalesce(mentions.title, '') as title,
        coalesce(mentions.affiliation_id, '') as organization_id,
        mentions.article_id
    from mentions
    where mentions.entity_type = 'PERSON'
        and (mentions.title is not null or mentions.affiliation_id is not null)
),

final as (
    select
        -- ids
        roles.person_id,
        people.name as person_name,
        -- role ('' where the sentence gives a title without an organization, or the reverse)
        roles.title,
        roles.organization_id,
        organizations.name as organization_name,
        -- when
        min(articles.seen_date) as first_seen,
        max(articles.seen_date) as last_seen,
        -- measures
        count(distinct roles.article_id) as article_count,
        count(*) as mention_count
    from roles
    inner join articles on roles.article_id = articles.article_id
    left join entities as people on roles.person_id = people.entity_id
    left join entities as organizations on roles.organization_id = organizations.entity_id
    group by all
)

select * from final
