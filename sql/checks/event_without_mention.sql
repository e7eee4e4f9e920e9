/*
kind: view
description: Violations - events with no evidence sentence (every fact must be traceable to a sentence).
tags: [checks]
*/
select events.*
from marts.fct_event as events
left join marts.fct_event_mention as mentions on events.event_id = mentions.event_id
where mentions.event_id is null
