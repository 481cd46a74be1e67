-- Channel dictionary snapshots (channel id -> level).
-- role: raw_source
CREATE TABLE channel_name_dictionary (payload STRING);
