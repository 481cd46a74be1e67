-- Room heartbeats (enter, beat, leave) per user and terminal.
-- role: raw_source
CREATE TABLE room_heartbeat (payload STRING);
