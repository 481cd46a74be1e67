-- Channel dictionary snapshots (channel id -> level).
-- role: raw_source
create table channel_name_dictionary (payload string);
