/*
kind: view
description: Violations - event participants whose entity is missing from dim_entity (should be empty).
tags: [checks]
*/
select participants.*
from marts.fct_event_participant as participants
left join marts.dim_entity as entities on participants.entity_id = entities.entity_id
where entities.entity_id is null
