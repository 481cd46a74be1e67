-- Presence sessions of every user in every room, late heartbeats included (offline may merge
-- sessions the stream split). Grain: bid x room_id x uid x online_from_ms.
-- Rule: LIVE_CLASSROOM_CONTRACT.md B.2 (macro room_sessions_from).
{{ config(order_by='(bid, room_id, uid, online_from_ms)') }}

{{ room_sessions_from(ref('room_heartbeats')) }}
