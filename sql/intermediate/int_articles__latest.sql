/*
kind: table
grain: [article_id]
description: The keys of the latest version of every source address (source_path + source_record) - version, and duplicate_of pointing at the article it repeats - duplicate_kind 'exact' when an earlier article has the same cleaned body, publisher, reporter, subheads and headline (another copy of one publication), 'near' when another outlet, reporter, set of subheads or reworked headline carries the same body, or its body near-duplicates an earlier one (intermediate.int_article_signatures). Older versions of an address are left out (they stay in raw.articles). Rebuilt whole on every run, because a row's version and duplicate status change when later rows arrive; it holds no text, so that costs little (intermediate.int_articles__deduplicated joins the text back).
tags: [articles]
*/
with

cleaned as (
    select * from intermediate.int_articles__cleaned
),

raw_articles as (
    select article_id, ingested_at, source_record from staging.stg_articles
),

signatures as (
    select body_sha, near_duplicate_of_sha, similarity from intermediate.int_article_signatures
),

-- The windows read these keys only: a window operator holds its rows in memory, and with bodies those are
-- gigabytes at 100k articles.
keys as (
    select
        cleaned.article_id,
        cleaned.source_path,
        raw_articles.source_record,
        raw_articles.ingested_at,
        cleaned.body_sha,
        cleaned.subheads_sha,
        cleaned.publisher,
        cleaned.reporters[1] as reporter,
        cleaned.title
    from cleaned
    inner join raw_articles on cleaned.article_id = raw_articles.article_id
),

versioned as (
    select
        keys.*,
        row_number() over (
            partition by keys.source_path, keys.source_record
            order by keys.ingested_at, keys.article_id
        ) as version,
        count(*) over (partition by keys.source_path, keys.source_record) as versions
    from keys
),

latest as (
    select * exclude (versions) from versioned where version = versions
),

ranked as (
    select
        latest.*,
        first_value(latest.article_id) over body_order as first_of_body,
        first_value(latest.publisher ignore nulls) over body_order as body_publisher,
        first_value(latest.reporter ignore nulls) over body_order as body_reporter,
        first_value(latest.title ignore nulls) over body_order as body_title
    from latest
    window body_order as (
        partition by latest.body_sha
        order by latest.ingested_at, latest.source_path, latest.source_record nulls first, latest.article_id
        rows between unbounded preceding and unbounded following
    )
),

editions as (
    -- The same body under another outlet's name or byline, with other subheads, or under a reworked
    -- headline ('[종합] ...') is a re-post (near), not a copy (exact). An unknown publisher or reporter
    -- takes the body's first one; a headline unlike the body's first one is more likely a subhead taken
    -- for a title: ignored.
    select
        ranked.*,
        first_value(ranked.article_id) over (
            partition by
                ranked.body_sha,
                coalesce(ranked.publisher, ranked.body_publisher),
                coalesce(ranked.reporter, ranked.body_reporter),
                ranked.subheads_sha,
                case
                    when ranked.title <> ranked.body_title
                        and levenshtein(ranked.title, ranked.body_title)
                            <= 0.4 * greatest(strlen(ranked.title), strlen(ranked.body_title))
                        then ranked.title
                end
            order by ranked.ingested_at, ranked.source_path, ranked.source_record nulls first, ranked.article_id
        ) as first_of_edition
    from ranked
),

originals as (
    select distinct body_sha, first_of_body as article_id from ranked
),

final as (
    select
        editions.article_id,
        editions.source_record,
        editions.ingested_at,
        editions.version,
        -- a copy points at the first article of its edition; the first of an edition points at the
        -- body's first article, and the first of a body that near-duplicates an earlier body at that
        -- body's first article
        case
            when editions.article_id <> editions.first_of_edition then editions.first_of_edition
            when editions.article_id <> editions.first_of_body then editions.first_of_body
            else near_originals.article_id
        end as duplicate_of,
        case
            when editions.article_id <> editions.first_of_edition then 'exact'
            when editions.article_id <> editions.first_of_body then 'near'
            when near_originals.article_id is not null then 'near'
        end as duplicate_kind,
        case
            when editions.article_id <> editions.first_of_body then 1.0
            when near_originals.article_id is not null then signatures.similarity
        end as duplicate_similarity
    from editions
    left join signatures on editions.body_sha = signatures.body_sha
    left join originals as near_originals on signatures.near_duplicate_of_sha = near_originals.body_sha
)

select * from final
