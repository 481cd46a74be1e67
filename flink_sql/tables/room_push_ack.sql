-- Client reports of pushed room messages (highest msgid held, msgids missing).
-- role: raw_source
create table room_push_ack (payload string);
