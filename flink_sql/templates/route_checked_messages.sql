-- What every cleaning job does with its checked view (one row per source message, reason NULL
-- when valid): rejected messages to rejected_messages with their raw payload and reason, and per
-- source split the messages read, accepted and rejected to topic_accounting (contract section 0).
-- Arguments: topic, the source topic's name; checked, the job's checked view.
insert into rejected_messages
select '{topic}', payload, reason, source_split, source_offset, ingested_at, processed_at
from {checked}
where reason is not null;

create temporary view {checked}_split_counts as
select
    '{topic}' as topic,
    source_split,
    count(*) as messages_read,
    count(*) filter (where reason is null) as accepted,
    count(*) filter (where reason is not null) as rejected,
    min(source_offset) as first_offset
from {checked}
group by source_split;

-- Counts only grow within a job's life (first_offset tells one run of the split from another),
-- so the newest row of a split and run is the one with the most messages_read.
insert into topic_accounting
select topic, source_split, first_offset, messages_read, accepted, rejected, current_timestamp
from to_changelog(input => table {checked}_split_counts)
where op in ('INSERT', 'UPDATE_AFTER');
