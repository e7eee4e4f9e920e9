/*
kind: table
grain: [article_id, sentence_idx, char_start, entity_id]
description: One row per entity mention in an article (duplicates excluded); char_start and char_end are offsets into the sentence (marts.fct_event_mention.evidence for events, intermediate.int_sentences.text in general); people carry the title and affiliation the sentence gives them.
tags: [marts, entities]
columns:
    article_id: varchar
    sentence_idx: integer
    entity_id: varchar
    surface: varchar
    char_start: integer
    char_end: integer
    title: varchar
    affiliation_id: varchar
    nested: boolean
*/
with

articles as (
    select article_id, text_sha from intermediate.int_articles__deduplicated where duplicate_of is null
),

mentions as (
    select * from intermediate.int_entity_mentions where entity_type <> 'DATE'
),

final as (
    select
        articles.article_id,
        mentions.sentence_idx,
        mentions.entity_key as entity_id,
        mentions.surface,
        mentions.char_start,
        mentions.char_end,
        mentions.entity_type,
        mentions.method,
        -- people: the title and organization (or country) the sentence gives them
        mentions.title,
        mentions.affiliation_id,
        -- inside a longer name (한국 in '한국 정부') or a compound letter (한미): linked, not a span of its own
        mentions.nested
    from mentions
    inner join articles on mentions.text_sha = articles.text_sha
)

select * from final
