-- Help-button presses (LIVE_CLASSROOM_CONTRACT.md A.1).
-- role: raw_source
create table classroom_help_request (payload string);
