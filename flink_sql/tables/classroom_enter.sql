-- Room enter/leave attempts (LIVE_CLASSROOM_CONTRACT.md A.1).
-- role: raw_source
CREATE TABLE classroom_enter (payload STRING);
