/*
kind: view
description: One row of data-quality shares that move when something breaks - articles with no entity mention, events with no date, dated events more than 30 years from their article, the latest intake quarantined. Checked by expectations/quality_metrics.json; the report plots them across runs.
tags: [checks]
*/
with

articles as (
    select article_id from marts.dim_article where duplicate_of is null
),

mentioned as (
    select distinct article_id from marts.fct_entity_mention
),

events as (
    select event_id, event_date from marts.fct_event
),

far_events as (
    select distinct event_id from checks.event_date_far_from_article
),

intake as (
    select run_id, ingested_at as received_at, 0 as quarantined from raw.articles
    union all
    select run_id, quarantined_at as received_at, 1 as quarantined from raw.quarantine
),

latest_intake as (
    select arg_max(run_id, received_at) as run_id from intake
),

article_measures as (
    select
        count(*) as articles,
        count(*) filter (where mentioned.article_id is null) as articles_without_entity
    from articles
    left join mentioned on articles.article_id = mentioned.article_id
),

event_measures as (
    select
        count(*) as events,
        count(*) filter (where events.event_date is null) as events_without_date,
        count(*) filter (where events.event_date is not null) as dated_events,
        count(far_events.event_id) as events_far_from_article
    from events
    left join far_events on events.event_id = far_events.event_id
),

intake_measures as (
    select
        any_value(latest_intake.run_id) as intake_run_id,
        count(intake.run_id) as intake_inputs,
        coalesce(sum(intake.quarantined), 0) as intake_quarantined
    from latest_intake
    left join intake on latest_intake.run_id = intake.run_id
),

final as (
    select
        -- articles
        article_measures.articles,
        article_measures.articles_without_entity,
        coalesce(article_measures.articles_without_entity / nullif(article_measures.articles, 0), 0)
            as share_articles_without_entity,
        -- events
        event_measures.events,
        event_measures.events_without_date,
        coalesce(event_measures.events_without_date / nullif(event_measures.events, 0), 0)
            as share_events_without_date,
        event_measures.dated_events,
        event_measures.events_far_from_article,
        coalesce(event_measures.events_far_from_article / nullif(event_measures.dated_events, 0), 0)
            as share_events_far_from_article,
        -- the latest run that received input
        intake_measures.intake_run_id,
        intake_measures.intake_inputs,
        intake_measures.intake_quarantined,
        coalesce(intake_measures.intake_quarantined / nullif(intake_measures.intake_inputs, 0), 0)
            as share_intake_quarantined
    from article_measures
    cross join event_measures
    cross join intake_measures
)

select * from final
