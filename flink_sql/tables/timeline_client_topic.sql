-- Courseware interaction signals (nested JSON).
-- role: raw_source
create table timeline_client_topic (payload string);
