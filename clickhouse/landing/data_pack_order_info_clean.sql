-- topic: data_pack_order_info_clean
-- grain: one row per valid consultant order version (Flink job clean_data_pack_order_info)
create table if not exists ods.data_pack_order_info_clean
(
    -- include: source_message
    id String,
    leads_flow_event_id Nullable(String),
    group_id Nullable(String),
    cc_id Int64,
    student_id Nullable(String),
    order_id Nullable(String),
    leads_id Nullable(String),
    confirm_date_time Nullable(String),
    create_time Nullable(String),
    update_time String,
    order_create_time Nullable(String),
    canceled_date_time Nullable(String),
    apply_refund_date Nullable(String),
    status Int32,
    message_seq Int64,
    -- include: cleaned, kafka_provenance
)
engine = MergeTree
order BY (id, update_time)
-- include: deduplicated_inserts
