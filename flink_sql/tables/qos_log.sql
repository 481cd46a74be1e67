-- Recorded-course client log.
-- role: raw_source
CREATE TABLE qos_log (payload STRING);
