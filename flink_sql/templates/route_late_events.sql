-- What every real-time mart does with its classified input (is_late, watermark_at): the late
-- events to late_events, and the mart's accounting (events in = counted + late) to
-- mart_accounting. Arguments: mart, the mart's name; events, the classified view; event_time_ms,
-- the event time in epoch ms; window_ms, the mart's window (0: none, window_start/end NULL);
-- split and offset, the source message's split and Kafka offset; then what late_events keeps of
-- the event, by its column names (NULL when not given).
insert into late_events
select
    '{mart}',
    date_format(event_at, 'yyyy-MM-dd HH:mm:ss'),
    {event_time_ms},
    date_format(watermark_at, 'yyyy-MM-dd HH:mm:ss.SSS'),
    -- the epoch-aligned window the event belonged to (NULL without windows: mod by NULL)
    date_format(
        to_timestamp_ltz({event_time_ms} - mod({event_time_ms}, nullif({window_ms:0}, 0)), 3),
        'yyyy-MM-dd HH:mm:ss'),
    date_format(
        to_timestamp_ltz(
            {event_time_ms} - mod({event_time_ms}, nullif({window_ms:0}, 0)) + {window_ms:0}, 3),
        'yyyy-MM-dd HH:mm:ss'),
    {user_id:cast(null as bigint)},
    {web_server_id:cast(null as bigint)},
    {classroom_id:cast(null as string)},
    {user_type:cast(null as string)},
    {role:cast(null as int)},
    {event:cast(null as string)},
    {extra_uid:cast(null as bigint)},
    {metric_value:cast(null as bigint)},
    {split:source_split},
    {offset:source_offset},
    current_timestamp
from {events}
where is_late;

create temporary view {events}_mart_counts as
select
    '{mart}' as mart,
    count(*) as events_in,
    count(*) filter (where not is_late) as events_counted,
    count(*) filter (where is_late) as events_late,
    min(current_row_timestamp()) as counting_since
from {events};

-- Counts only grow within a job's life (counting_since, kept in state, tells one run from
-- another), so the newest row of a run is the one with the most events_in.
insert into mart_accounting
select mart, counting_since, events_in, events_counted, events_late, current_timestamp
from to_changelog(input => table {events}_mart_counts)
where op in ('INSERT', 'UPDATE_AFTER');
