-- Device samples (microphone, speaker, camera, CPU) (LIVE_CLASSROOM_CONTRACT.md A.1).
-- role: raw_source
create table classroom_device_sample (payload string);
