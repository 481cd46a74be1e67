-- Course-consultant order follow-up snapshots.
-- role: raw_source
CREATE TABLE data_pack_order_info (payload STRING);
