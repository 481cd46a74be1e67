-- Courseware interaction signals (nested JSON).
-- role: raw_source
CREATE TABLE timeline_client_topic (payload STRING);
