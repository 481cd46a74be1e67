-- Dynamic-courseware events (LIVE_CLASSROOM_CONTRACT.md A.1).
-- role: raw_source
create table classroom_courseware_event (payload string);
