-- Late routing of a windowed mart's input. Flink's window drops an event behind the watermark
-- silently, so each event is classified before the window. The rule is kept in state so that a
-- job restored from a checkpoint decides exactly as an undisturbed one (Flink's watermark is not
-- checkpointed: it restarts from nothing): per source split (a Kafka partition keeps its order,
-- and the cleaning keeps a split in one partition of its clean topic) the split's watermark is its
-- greatest event time so far minus the delay (the source DDL's watermark, computed per partition);
-- an event at or behind it is late. The operator's own watermark (CURRENT_WATERMARK; NULL before
-- the first one) is never ahead of its partition's, except once an idle partition resumes: an
-- event behind it is late too, so an on-time event always reaches a window that has not fired
-- (window_end > event time > watermark).
-- Arguments: view, the view to create (the input's columns with is_late and watermark_at);
-- source, the input (with event_at, its event time); event_time_ms, the event time in epoch ms;
-- split, the source split column; delay, the watermark delay in seconds; columns, the input's
-- columns the mart uses (default all). Every row crosses a hash exchange to its split's task, and
-- the planner does not prune unused columns through an OVER aggregate: naming them here keeps
-- the rest out of the exchange (serialized, sent and read once per row and mart).
create temporary view {view} as
select
    *,
    split_late or coalesce(event_at <= current_watermark(event_at), false) as is_late,
    case
        when split_late then to_timestamp_ltz(split_watermark_ms, 3)
        else current_watermark(event_at)
    end as watermark_at
from (
    select *, {event_time_ms} <= split_watermark_ms as split_late
    from (
        select
            *,
            max({event_time_ms}) over (
                partition by {split:source_split} order by arrived_at
                rows between unbounded preceding and current row
            ) - {delay:${WATERMARK_DELAY_SECONDS}} * 1000 as split_watermark_ms
        from (select {columns:*}, proctime() as arrived_at from {source})
    )
);
