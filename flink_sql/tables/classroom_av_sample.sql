-- Audio/video samples of what a user receives (LIVE_CLASSROOM_CONTRACT.md A.1).
-- role: raw_source
CREATE TABLE classroom_av_sample (payload STRING);
