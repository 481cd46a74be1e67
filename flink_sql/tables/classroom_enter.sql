-- Room enter/leave attempts (LIVE_CLASSROOM_CONTRACT.md A.1).
-- role: raw_source
create table classroom_enter (payload string);
