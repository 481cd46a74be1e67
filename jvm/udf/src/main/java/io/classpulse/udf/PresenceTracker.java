package io.classpulse.udf;

import org.apache.flink.table.annotation.ArgumentHint;
import org.apache.flink.table.annotation.ArgumentTrait;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.StateHint;
import org.apache.flink.table.api.dataview.MapView;
import org.apache.flink.table.functions.ProcessTableFunction;
import org.apache.flink.types.Row;

/**
 * {@code presence_tracker(input => TABLE t PARTITION BY (bid, room_id, bucket), on_time =>
 * DESCRIPTOR(event_at), timeout_ms => ...)}: a process table function that follows the presence
 * of each user ({@code uid}) of one bucket of a room (rules in {@link UserPresence}) and emits,
 * once the watermark passes them, their sessions ({@code row_kind = 'session'}) and the pieces of
 * each session per minute ({@code row_kind = 'piece'}, final at the session's end or the
 * minute's end, whichever comes first), for room_concurrency_1min.
 *
 * <p>Why buckets of a room ({@code bucket = uid mod K}, computed before the call; it only
 * partitions): keyed per user, every user paid a key row twice (its state entry's and its
 * timer's, 36 bytes each serialized) and a timer besides its packed bytes, ~155 bytes per online
 * user checkpointed; keyed per room, a 60k-user room ran on one subtask at half the speed. A
 * bucket keeps a map uid to the user's packed bytes (~45 bytes an entry), a {@link DueIndex}
 * (a few bytes a user) and one timer: a big room spreads over every subtask and key group, and
 * each key holds hundreds of its users. A small room has a key per user, as before.
 *
 * <p>Timers: one per bucket, at the first slot of its {@link DueIndex}: each user due is filed
 * under the first 5-second boundary ({@link #GRID_MS}) at or after its next wake. When the timer
 * fires at t, only the users filed at t are advanced to t: the rules apply each instant in
 * event-time order whatever t is (the watermark has passed t, so every message up to t is in),
 * so the rows are the same as with a timer at each wake; they only leave up to 5 s later,
 * timed at t. A piece stays in its minute: it is final in (m, m + 60 s] and the minute's end is a
 * grid boundary.
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
 * {@code clearAll()}). A bucket's state goes when its timer finds no user due after it: the
 * timer that fired was its only one.
 */
@DataTypeHint(
        "ROW<row_kind STRING, uid BIGINT, online_from BIGINT, online_to BIGINT, "
                + "end_reason STRING, terminals INT, heartbeats BIGINT, minute_ms BIGINT, "
                + "piece_from BIGINT, piece_to BIGINT, is_start BOOLEAN, is_timeout BOOLEAN>")
public class PresenceTracker extends ProcessTableFunction<Row> {

    /**
     * Timers on a 5-second grid: a user's wake is filed under the boundary at or after it. A
     * minute's end is one, so pieces stay in their minute; a coarser grid means fewer due slots
     * per bucket (each costs its key and length in the state), sessions leaving a little later.
     */
    static final long GRID_MS = 5_000L;

    /** The bucket's settings and due slots, kept for {@code onTimer} (it sees no arguments). */
    public static class Bucket {
        public Long timeoutMs;
        public long[] dueSlots; // DueIndex#slots()
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
            @StateHint Bucket bucket,
            @StateHint MapView<Long, byte[]> users,
            @StateHint MapView<Long, byte[]> due,
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
        bucket.timeoutMs = timeoutMs;
        DueIndex index = new DueIndex(slotStore(due), bucket.dueSlots);
        long timer = index.first();
        byte[] packed = users.get(uid);
        UserPresence user =
                packed == null
                        ? new UserPresence(timeoutMs)
                        : UserPresence.unpack(packed, timeoutMs);
        long from = packed == null ? DueIndex.NONE : gridTime(user.nextWake());
        user.add(at, terminal, "leave".equals(kind));
        index.move(uid, from, gridTime(user.nextWake()));
        users.put(uid, user.pack());
        bucket.dueSlots = index.slots();
        if (index.first() != timer) {
            TimeContext<Long> time = context.timeContext(Long.class);
            if (timer != DueIndex.NONE) {
                time.clearTimer(timer);
            }
            time.registerOnTime(index.first());
        }
    }

    public void onTimer(
            OnTimerContext context,
            Bucket bucket,
            MapView<Long, byte[]> users,
            MapView<Long, byte[]> due)
            throws Exception {
        if (bucket.timeoutMs == null) {
            return; // the bucket's state is gone
        }
        TimeContext<Long> time = context.timeContext(Long.class);
        long now = time.time();
        DueIndex index = new DueIndex(slotStore(due), bucket.dueSlots);
        if (output == null) {
            output = new Output();
        }
        while (index.first() != DueIndex.NONE && index.first() <= now) {
            for (long uid : index.takeFirst()) {
                advance(uid, now, bucket.timeoutMs, users, index);
            }
        }
        if (index.first() == DueIndex.NONE) {
            context.clearAllState(); // no user left; never clearAll(): see the class comment
            return;
        }
        bucket.dueSlots = index.slots();
        time.registerOnTime(index.first()); // after now: every user due by now has advanced
    }

    /** Advances one user due by {@code now}, files it under its next wake or drops it. */
    private void advance(
            long uid, long now, long timeoutMs, MapView<Long, byte[]> users, DueIndex index)
            throws Exception {
        byte[] packed = users.get(uid);
        if (packed == null) {
            return;
        }
        UserPresence user = UserPresence.unpack(packed, timeoutMs);
        output.uid = uid;
        user.advance(now, output);
        if (user.isIdle()) {
            users.remove(uid);
            return;
        }
        users.put(uid, user.pack());
        index.move(uid, DueIndex.NONE, gridTime(user.nextWake()));
    }

    /** The due slots' uids, in the bucket's map {@code due}. */
    private static DueIndex.Store slotStore(MapView<Long, byte[]> due) {
        return new DueIndex.Store() {
            @Override
            public byte[] get(long slot) throws Exception {
                return due.get(slot);
            }

            @Override
            public void put(long slot, byte[] uids) throws Exception {
                due.put(slot, uids);
            }

            @Override
            public void remove(long slot) throws Exception {
                due.remove(slot);
            }
        };
    }

    /** The first grid instant at or after {@code wake} (NONE stays NONE: nothing due). */
    static long gridTime(long wake) {
        if (wake == UserPresence.NONE) {
            return DueIndex.NONE;
        }
        return Math.floorDiv(wake + GRID_MS - 1, GRID_MS) * GRID_MS;
    }
}
