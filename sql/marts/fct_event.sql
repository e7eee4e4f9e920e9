/*
kind: table
grain: [event_id]
description: One row per real-world event however many sentences and articles report it: PLOVER type, mode, context, date with precision, status, first report, article and mention counts, and flags for mentions that are no new fact (background, negated, hypothetical).
tags: [marts, events]
columns:
    event_id: varchar
    event_type: varchar
    mode: varchar
    event_date: date
    date_precision: varchar
    status: varchar
    summary: varchar
    first_reported_date: date
    article_count: bigint
*/
with

mentions as (
    select * from intermediate.int_events
),

primary_mentions as (
    select * from mentions where is_primary
),

counts as (
    select
        event_id,
        min(published_date) as first_reported_date,
        max(published_date) as last_reported_date,
        count(distinct article_id) as article_count,
        count(distinct (article_id, sentence_idx)) as mention_count,
        -- a headline restates its lead; the body decides what kind of report this is
        bool_and(is_background) filter (where not is_title) as is_background,
        bool_and(is_negated) as is_negated,
        bool_and(is_hypothetical) as is_hypothetical,
        list_sort(list_distinct(flatten(list(contexts)))) as contexts
    from mentions
    group by event_id
),

final as (
    select
        -- ids
        primary_mentions.event_id,
        -- what
        primary_mentions.event_type,
        primary_mentions.mode,
        primary_mentions.context,
        counts.contexts,
        -- when
        primary_mentions.event_date,
        primary_mentions.date_precision,
        primary_mentions.date_text,
        primary_mentions.event_status as status,
        -- evidence
        left(primary_mentions.evidence, 240) as summary,
        counts.first_reported_date,
        counts.last_reported_date,
        counts.article_count,
        counts.mention_count,
        -- modality: true when every mention is so; analysts filter these out of new facts
        coalesce(counts.is_background, false) as is_background,
        counts.is_negated,
        counts.is_hypothetical,
        not (counts.is_negated or counts.is_hypothetical) as is_fact
    from primary_mentions
    inner join counts on primary_mentions.event_id = counts.event_id
)

select * from final
