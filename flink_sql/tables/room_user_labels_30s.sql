-- Mart: problem labels per room, user and 30-second window (insert-only; LIVE_CLASSROOM_CONTRACT.md
-- A.3). Times are epoch ms.
-- role: output
apply template room_dimension_table (table = 'room_user_labels_30s', columns = $$
    start_time             BIGINT,
    end_time               BIGINT,
    room_id                DECIMAL(20, 0),
    user_id                BIGINT,
    `role`                 STRING,
    messages               BIGINT,
    in_room                INT,
    enter_attempts         BIGINT,
    enter_fail             INT,
    enter_slow             INT,
    enter_fail_component   STRING,
    audio_stall            INT,
    video_stall            INT,
    cannot_hear            INT,
    cannot_see             INT,
    net_quality            STRING,  -- none | good | poor | bad
    device_abnormal        INT,
    courseware_load_fail   INT,
    courseware_out_of_sync INT,
    cannot_draw            INT,
    peer_in_room           INT,
    fm_in_room             INT,
    problem_labels         ARRAY<STRING>,
$$);
