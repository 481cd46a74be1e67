-- Client reports of pushed room messages (highest msgid held, msgids missing).
-- role: raw_source
CREATE TABLE room_push_ack (payload STRING);
