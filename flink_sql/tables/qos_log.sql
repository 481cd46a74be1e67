-- Recorded-course client log.
-- role: raw_source
create table qos_log (payload string);
