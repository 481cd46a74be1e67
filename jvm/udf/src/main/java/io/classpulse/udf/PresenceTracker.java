package io.classpulse.udf;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.flink.table.annotation.ArgumentHint;
import org.apache.flink.table.annotation.ArgumentTrait;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.StateHint;
import org.apache.flink.table.api.dataview.MapView;
import org.apache.flink.table.functions.ProcessTableFunction;
import org.apache.flink.types.Row;

/**
 * {@code presence_tracker(input => TABLE t PARTITION BY (bid, room_id), on_time =>
 * DESCRIPTOR(event_at), timeout_ms => ...)}: a process table function that follows the presence
 * of each user ({@code uid}) of one room (rules in {@link UserPresence}) and emits, once the
 * watermark passes them, their sessions ({@code row_kind = 'session'}) and the pieces of each
 * session per minute ({@code row_kind = 'piece'}, final at the session's end or the minute's end,
 * whichever comes first), for room_concurrency_1min.
 *
 * <p>Why per room and not per user: the state is one map per room, uid to the user's packed
 * bytes, plus a handful of timers per room. Keyed per user, an online user cost 134 bytes in the
 * checkpoint: its state entry (1-byte namespace, the key (bid, room_id, uid) as a 36-byte row,
 * the packed bytes as a 52-byte row) and its timer (8-byte time, the key again, namespace); the
 * bench measured ~155. A map entry is 35 bytes (8-byte uid, a null flag, a 4-byte length, ~22
 * packed bytes); the room pays its key and timers once. The seed keeps its big rooms' members
 * the same way (002: one member list per room, 40 bytes per member).
 *
 * <p>Timers: one per room and second ({@link #GRID_MS}), at the first second boundary at or
 * after each user's next wake (registering it again is free: a key's timers are a set). When one
 * fires at t, every user whose wake is at or before t advances to t: the rules apply each instant
 * in event-time order whatever t is (the watermark has passed t, so every message up to t is in),
 * so the rows are the same as with a timer at each wake; they only leave up to a second later,
 * timed at t. A piece stays in its minute: it is final in (m, m + 60 s] and the minute's end is a
 * second boundary. A timer that finds no user due (its user's wake moved) costs a scan.
 *
 * <p>Why state goes by {@code clearAllState()} and never {@code clearAll()} (Flink 2.3.0):
 * {@code clearAll()} also runs {@code clearAllTimers()}, which lists the timers through
 * {@code InternalTimerService.forEachEventTimeTimer}. On the heap timer service that walks the
 * timers of every key of the subtask and sets each one as the current key, so afterwards the
 * current key is some other key's: the timestamps of all keys' timers are deleted for that key,
 * and the state written back when {@code onTimer} returns lands on that key too. Other keys lost
 * their state and their timers, and their sessions were never emitted (in bounded runs too: this,
 * not an interrupted timer chain as first suspected under FLINK-39481, is what lost the sessions
 * that the end-of-input watermark should close; tests/flink/test_room_presence.py fails with
 * {@code clearAll()}). A room's remaining timers find an empty map and do nothing.
 */
@DataTypeHint(
        "ROW<row_kind STRING, uid BIGINT, online_from BIGINT, online_to BIGINT, "
                + "end_reason STRING, terminals INT, heartbeats BIGINT, minute_ms BIGINT, "
                + "piece_from BIGINT, piece_to BIGINT, is_start BOOLEAN, is_timeout BOOLEAN>")
public class PresenceTracker extends ProcessTableFunction<Row> {

    /** Timers on a one-second grid: at most one per room and second. */
    static final long GRID_MS = 1_000L;

    /** The room's settings, kept for {@code onTimer}, which does not see the arguments. */
    public static class Room {
        public Long timeoutMs;
    }

    /** Turns one user's rules' rows into output rows (not serialized with the function). */
    private final class Output implements UserPresence.Sink {
        long uid;

        @Override
        public void session(
                long onlineFrom, long onlineTo, boolean byLeave, int terminals, long heartbeats) {
            collect(
                    Row.of(
                            "session", uid, onlineFrom, onlineTo, byLeave ? "leave" : "timeout",
                            terminals, heartbeats, null, null, null, null, null));
        }

        @Override
        public void piece(
                long minute, long pieceFrom, long pieceTo, boolean started, boolean timedOut) {
            collect(
                    Row.of(
                            "piece", uid, null, null, null, null, null, minute, pieceFrom,
                            pieceTo, started, timedOut));
        }
    }

    private transient Output output;

    public void eval(
            Context context,
            @StateHint Room room,
            @StateHint MapView<Long, byte[]> users,
            @ArgumentHint(
                            name = "input",
                            value = {ArgumentTrait.SET_SEMANTIC_TABLE, ArgumentTrait.REQUIRE_ON_TIME})
                    Row input,
            @ArgumentHint(name = "timeout_ms") Long timeoutMs)
            throws Exception {
        Long uid = input.getFieldAs("uid");
        Long at = input.getFieldAs("server_time");
        String terminal = input.getFieldAs("terminal");
        String kind = input.getFieldAs("kind");
        if (uid == null || at == null || terminal == null || kind == null || timeoutMs == null) {
            return; // the cleaning job lets none through
        }
        room.timeoutMs = timeoutMs;
        byte[] packed = users.get(uid);
        UserPresence user =
                packed == null
                        ? new UserPresence(timeoutMs)
                        : UserPresence.unpack(packed, timeoutMs);
        long before = user.nextWake();
        user.add(at, terminal, "leave".equals(kind));
        long wake = user.nextWake();
        if (before == UserPresence.NONE || gridTime(wake) != gridTime(before)) {
            context.timeContext(Long.class).registerOnTime(gridTime(wake));
        }
        users.put(uid, user.pack());
    }

    public void onTimer(OnTimerContext context, Room room, MapView<Long, byte[]> users)
            throws Exception {
        if (room.timeoutMs == null) {
            return; // the room's state is gone: a timer left from before
        }
        TimeContext<Long> time = context.timeContext(Long.class);
        long now = time.time();
        List<Map.Entry<Long, byte[]>> due = new ArrayList<>();
        for (Map.Entry<Long, byte[]> entry : users.entries()) {
            if (UserPresence.wakeOf(entry.getValue()) <= now) {
                due.add(Map.entry(entry.getKey(), entry.getValue()));
            }
        }
        if (output == null) {
            output = new Output();
        }
        for (Map.Entry<Long, byte[]> entry : due) {
            UserPresence user = UserPresence.unpack(entry.getValue(), room.timeoutMs);
            output.uid = entry.getKey();
            user.advance(now, output);
            if (user.isIdle()) {
                users.remove(entry.getKey());
            } else {
                time.registerOnTime(gridTime(user.nextWake()));
                users.put(entry.getKey(), user.pack());
            }
        }
        if (users.isEmpty()) {
            context.clearAllState(); // never clearAll(): see the class comment
        }
    }

    /** The first grid instant at or after {@code wake}. */
    static long gridTime(long wake) {
        return Math.floorDiv(wake + GRID_MS - 1, GRID_MS) * GRID_MS;
    }
}
