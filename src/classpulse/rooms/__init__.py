"""Room presence and message loss (LIVE_CLASSROOM_CONTRACT.md section B).

- :mod:`classpulse.rooms.generator`: the topics ``room_heartbeat`` and ``room_push_ack``
  (named records, bad input, late heartbeats) and the files they are written to;
- :mod:`classpulse.rooms.expected`: the marts computed in pure Python from the records
  (the oracle of the Flink and dbt tests);
- :mod:`classpulse.rooms.now`: who is online in a room now, from the rt marts.
"""
