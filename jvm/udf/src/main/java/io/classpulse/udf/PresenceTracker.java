package io.classpulse.udf;

import org.apache.flink.table.annotation.ArgumentHint;
import org.apache.flink.table.annotation.ArgumentTrait;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.StateHint;
import org.apache.flink.table.functions.ProcessTableFunction;
import org.apache.flink.types.Row;

/**
 * {@code presence_tracker(input => TABLE t PARTITION BY (bid, room_id, uid), on_time =>
 * DESCRIPTOR(event_at), timeout_ms => ...)}: a process table function that follows one user's
 * presence in one room (rules in {@link UserPresence}) and emits, once the watermark passes
 * them, its sessions ({@code row_kind = 'session'}, at online_to) and the pieces of each session
 * per minute ({@code row_kind = 'piece'}, at the session's end or the minute's end, whichever
 * comes first), for room_concurrency_1min.
 *
 * <p>The input holds the heartbeats not behind the watermark ({@code terminal}, {@code kind},
 * {@code server_time}). The state is one packed byte array per user plus one event-time timer:
 * the next instant at which something is due (a buffered message, the reach, a minute's end).
 * A user with nothing buffered and no session open keeps no state at all.
 *
 * <p>Why an idle user's state goes by {@code clearAllState()} and never {@code clearAll()} (Flink
 * 2.3.0): {@code clearAll()} also runs {@code clearAllTimers()}, which lists the timers through
 * {@code InternalTimerService.forEachEventTimeTimer}. On the heap timer service that walks the
 * timers of every key of the subtask and sets each one as the current key, so afterwards the
 * current key is some other user's: the timestamps of all users' timers are deleted for that user,
 * and the state written back when {@code onTimer} returns lands on that user too. Other users lost
 * their state and their timers, and their sessions were never emitted (in bounded runs too: this,
 * not an interrupted timer chain as first suspected under FLINK-39481, is what lost the sessions
 * that the end-of-input watermark should close; tests/flink/test_room_presence.py fails with
 * {@code clearAll()}). Here the timer that fired was the user's only one (one per user, see
 * {@link #schedule}), so clearing the state is all that is needed.
 */
@DataTypeHint(
        "ROW<row_kind STRING, online_from BIGINT, online_to BIGINT, end_reason STRING, "
                + "terminals INT, heartbeats BIGINT, minute_ms BIGINT, piece_from BIGINT, "
                + "piece_to BIGINT, is_start BOOLEAN, is_timeout BOOLEAN>")
public class PresenceTracker extends ProcessTableFunction<Row> {

    /** The state of one user: {@link UserPresence#pack()}. */
    public static class Packed {
        public byte[] bytes;
    }

    /** Turns the rules' rows into output rows (not serialized with the function). */
    private final class Output implements UserPresence.Sink {
                @Override
                public void session(
                        long onlineFrom,
                        long onlineTo,
                        boolean byLeave,
                        int terminals,
                        long heartbeats) {
                    collect(
                            Row.of(
                                    "session",
                                    onlineFrom,
                                    onlineTo,
                                    byLeave ? "leave" : "timeout",
                                    terminals,
                                    heartbeats,
                                    null,
                                    null,
                                    null,
                                    null,
                                    null));
                }

                @Override
                public void piece(
                        long minute,
                        long pieceFrom,
                        long pieceTo,
                        boolean started,
                        boolean timedOut) {
                    collect(
                            Row.of(
                                    "piece", null, null, null, null, null, minute, pieceFrom,
                                    pieceTo, started, timedOut));
                }
    }

    private transient Output output;

    public void eval(
            Context context,
            @StateHint Packed state,
            @ArgumentHint(
                            name = "input",
                            value = {ArgumentTrait.SET_SEMANTIC_TABLE, ArgumentTrait.REQUIRE_ON_TIME})
                    Row input,
            @ArgumentHint(name = "timeout_ms") Long timeoutMs) {
        Long at = input.getFieldAs("server_time");
        String terminal = input.getFieldAs("terminal");
        String kind = input.getFieldAs("kind");
        if (at == null || terminal == null || kind == null || timeoutMs == null) {
            return; // the cleaning job lets none through
        }
        UserPresence user =
                state.bytes == null ? new UserPresence(timeoutMs) : UserPresence.unpack(state.bytes);
        user.add(at, terminal, "leave".equals(kind));
        schedule(context.timeContext(Long.class), user);
        state.bytes = user.pack();
    }

    public void onTimer(OnTimerContext context, Packed state) {
        if (state.bytes == null) {
            return;
        }
        TimeContext<Long> time = context.timeContext(Long.class);
        UserPresence user = UserPresence.unpack(state.bytes);
        user.wake = UserPresence.NONE; // this one fired
        if (output == null) {
            output = new Output();
        }
        user.advance(time.time(), output);
        if (user.isIdle()) {
            // the fired timer was the only one; clearAll() would corrupt other keys (see above)
            state.bytes = null;
            context.clearAllState();
            return;
        }
        schedule(time, user);
        state.bytes = user.pack();
    }

    /** One timer per user, at the next instant something is due. */
    private static void schedule(TimeContext<Long> time, UserPresence user) {
        long next = user.nextWake();
        if (next == user.wake) {
            return;
        }
        if (user.wake != UserPresence.NONE) {
            time.clearTimer(user.wake);
        }
        if (next != UserPresence.NONE) {
            time.registerOnTime(next);
        }
        user.wake = next;
    }
}
