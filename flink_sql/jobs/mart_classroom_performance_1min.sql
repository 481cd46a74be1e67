-- Student classroom performance: classified events per 1-minute tumbling window of client event
-- time. Grain: window x room (webserver_id) x user x role x event; insert-only (a window is final
-- when the watermark passes it). Rule: DATA_CONTRACT.md classroom_performance_1min (seed scene 2,
-- but on event time data.timestamp, not the seed's processing time NOW()).

-- Late routing (flink_sql/templates/late_by_split_watermark.sql): an event at or behind its
-- split's watermark (kept in state) or the operator's is late; it goes to late_events, and
-- counted + late = events read, per mart_accounting.
apply template late_by_split_watermark (
    view = 'classroom_events', source = 'timeline_analysis_student',
    event_time_ms = 'messageTimeStamp', split = 'sourceSplit',
    columns = 'sourceSplit, sourceOffset, messageTimeStamp, event_at, roomId, userId, `role`,
        `event`'
);

create temporary view classroom_events_on_time as
select * from classroom_events where not is_late;

insert into classroom_performance_1min
select
    DATE_FORMAT(window_start, 'yyyy-MM-dd HH:mm:ss'),
    DATE_FORMAT(window_end, 'yyyy-MM-dd HH:mm:ss'),
    roomId,
    userId,
    `role`,
    `event`,
    COUNT(*),
    current_timestamp
from table(TUMBLE(table classroom_events_on_time, DESCRIPTOR(event_at), interval '1' minute))
group by window_start, window_end, roomId, userId, `role`, `event`;

apply template route_late_events (
    mart = 'classroom_performance_1min', events = 'classroom_events',
    event_time_ms = 'messageTimeStamp', window_ms = '60000', split = 'sourceSplit',
    offset = 'sourceOffset',
    user_id = 'userId', web_server_id = 'roomId', role = '`role`', event = '`event`'
);
