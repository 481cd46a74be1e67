-- Live-class audio/video quality records.
-- role: raw_source
CREATE TABLE agora_record (payload STRING);
