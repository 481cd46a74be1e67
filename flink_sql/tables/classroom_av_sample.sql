-- Audio/video samples of what a user receives (LIVE_CLASSROOM_CONTRACT.md A.1).
-- role: raw_source
create table classroom_av_sample (payload string);
