-- A live-classroom mart: its own columns, then the dimension columns of LIVE_CLASSROOM_CONTRACT.md
-- C (flink_sql/templates/room_dimensions.sql computes them). Arguments: table, the table's name;
-- columns, its own columns (each followed by a comma).
create table {table} (
{columns}
    lesson_id        bigint,
    lesson_date      date,
    room_role        string,
    expected_members bigint,
    tutor_id         bigint,
    class_id         bigint,
    org_node_id      bigint,
    dim_run_id       bigint,
    dim_status       string,  -- ok | room_unknown | member_unknown | lookup_timeout
    processed_at     timestamp_ltz(3)
)
