-- Course-consultant order follow-up snapshots.
-- role: raw_source
create table data_pack_order_info (payload string);
