-- Help-button presses (LIVE_CLASSROOM_CONTRACT.md A.1).
-- role: raw_source
CREATE TABLE classroom_help_request (payload STRING);
