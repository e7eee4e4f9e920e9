/*
kind: table
grain: [article_id, sentence_idx, char_start, entity_id]
description: One row per entity mention in an article (duplicates excluded); char_start and char_end are offsets into the sentence (marts.fct_event_mention.evidence for events, intermediate.int_sentences.text in general).
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
        mentions.method
    from mentions
    inner join articles on mentions.text_sha = articles.text_sha
)

select * from final
