-- Room heartbeats (enter, beat, leave) per user and terminal.
-- role: raw_source
create table room_heartbeat (payload string);
