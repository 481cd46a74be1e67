-- Device samples (microphone, speaker, camera, CPU) (LIVE_CLASSROOM_CONTRACT.md A.1).
-- role: raw_source
CREATE TABLE classroom_device_sample (payload STRING);
