-- Live-class audio/video quality records.
-- role: raw_source
create table agora_record (payload string);
