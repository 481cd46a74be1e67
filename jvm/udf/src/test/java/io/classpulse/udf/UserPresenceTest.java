package io.classpulse.udf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The presence rules (LIVE_CLASSROOM_CONTRACT.md B.2, B.3) of one user, driven as the tracker
 * drives them: messages buffered, then time advanced to each wake instant the state asks for,
 * the state packed and unpacked between every step (as between two calls of the function).
 */
class UserPresenceTest {

    private static final long S = 1_000L;
    private static final long T = 30 * S;
    private static final long M = 60 * S;
    private static final long T0 = 1_796_083_200_000L; // a minute boundary

    /** Rows as text, with times relative to T0 in ms, in the order they were emitted. */
    private static final class Rows implements UserPresence.Sink {
        final List<String> sessions = new ArrayList<>();
        final List<String> pieces = new ArrayList<>();
        final List<Long> emittedAt = new ArrayList<>();
        long now;

        @Override
        public void session(long from, long to, boolean byLeave, int terminals, long beats) {
            sessions.add(
                    (from - T0) + ".." + (to - T0) + " " + (byLeave ? "leave" : "timeout") + " t"
                            + terminals + " h" + beats);
            emittedAt.add(now - T0);
        }

        @Override
        public void piece(long minute, long from, long to, boolean started, boolean timedOut) {
            pieces.add(
                    (minute - T0) + ": " + (from - T0) + ".." + (to - T0) + (started ? " start" : "")
                            + (timedOut ? " timeout" : ""));
            // timed in (m, m + 60 s]: the minute's tumble (shifted by 1 ms) takes it
            assertTrue(now > minute && now <= minute + M, "piece of " + minute + " at " + now);
            emittedAt.add(now - T0);
        }
    }

    /**
     * Messages (terminal, kind, at relative to T0), given in any order; all buffered first. Run
     * twice, advancing to each wake and to the tracker's grid time at or after it: the rows must
     * be the same (only when they leave differs).
     */
    private static Rows run(Object[]... messages) {
        Rows exact = drive(false, messages);
        Rows onGrid = drive(true, messages);
        assertEquals(exact.sessions, onGrid.sessions);
        assertEquals(exact.pieces, onGrid.pieces);
        return exact;
    }

    private static Rows drive(boolean onGrid, Object[]... messages) {
        UserPresence user = new UserPresence(T);
        for (Object[] message : messages) {
            user.add(T0 + (Long) message[2], (String) message[0], "leave".equals(message[1]));
        }
        Rows rows = new Rows();
        byte[] packed = user.pack();
        for (int steps = 0; steps < 1_000; steps++) {
            user = UserPresence.unpack(packed, T);
            long wake = user.nextWake();
            if (wake == UserPresence.NONE) {
                assertTrue(user.isIdle());
                return rows;
            }
            rows.now = onGrid ? PresenceTracker.gridTime(wake) : wake;
            user.advance(rows.now, rows);
            packed = user.pack();
        }
        throw new AssertionError("never idle");
    }

    private static Object[] m(String terminal, String kind, long at) {
        return new Object[] {terminal, kind, at};
    }

    @Test
    void oneTerminalBeatsThenLeaves() {
        Rows rows = run(m("pc", "enter", 0), m("pc", "beat", 10 * S), m("pc", "beat", 20 * S),
                m("pc", "leave", 25 * S));
        assertEquals(List.of("0..25000 leave t1 h3"), rows.sessions);
        assertEquals(List.of("0: 0..25000 start"), rows.pieces);
    }

    @Test
    void aTimeoutIsTheLastBeatPlusT() {
        Rows rows = run(m("pc", "enter", 5 * S), m("pc", "beat", 15 * S));
        assertEquals(List.of("5000..45000 timeout t1 h2"), rows.sessions);
        assertEquals(List.of("0: 5000..45000 start timeout"), rows.pieces);
    }

    @Test
    void aLeaveAtTheInstantOfABeatWins() {
        Rows rows = run(m("pc", "enter", 0), m("pc", "leave", 10 * S), m("pc", "beat", 10 * S));
        // the void beat sits at online_to: not inside the session
        assertEquals(List.of("0..10000 leave t1 h1"), rows.sessions);
    }

    @Test
    void aLoneVoidBeatMakesNoSession() {
        Rows rows = run(m("pc", "beat", 10 * S), m("pc", "leave", 10 * S));
        assertEquals(List.of(), rows.sessions);
        assertEquals(List.of(), rows.pieces);
    }

    @Test
    void touchingIntervalsMerge() {
        Rows rows = run(m("pc", "enter", 0), m("pc", "beat", 30 * S));
        assertEquals(List.of("0..60000 timeout t1 h2"), rows.sessions);
        // it ends exactly at the minute's end: its timeout counts in minute 0
        assertEquals(List.of("0: 0..60000 start timeout"), rows.pieces);
    }

    @Test
    void aGapOfOneMillisecondMoreSplits() {
        Rows rows = run(m("pc", "enter", 0), m("pc", "beat", 30 * S + 1));
        assertEquals(List.of("0..30000 timeout t1 h1", "30001..60001 timeout t1 h1"),
                rows.sessions);
        assertEquals(
                List.of("0: 0..30000 start timeout", "0: 30001..60000 start",
                        "60000: 60000..60001 timeout"),
                rows.pieces);
    }

    @Test
    void alternatingTerminalsNeverTimeOut() {
        Rows rows = run(m("pc", "enter", 0), m("app", "enter", 20 * S), m("pc", "beat", 40 * S),
                m("app", "beat", 60 * S), m("pc", "beat", 80 * S), m("app", "leave", 90 * S),
                m("pc", "leave", 95 * S));
        assertEquals(List.of("0..95000 leave t2 h5"), rows.sessions);
        assertEquals(List.of("0: 0..60000 start", "60000: 60000..95000"), rows.pieces);
    }

    @Test
    void oneTerminalLeavesTheOtherStillCovers() {
        Rows rows = run(m("pc", "enter", 0), m("h5", "enter", 5 * S), m("pc", "leave", 10 * S),
                m("h5", "beat", 15 * S));
        assertEquals(List.of("0..45000 timeout t2 h3"), rows.sessions);
    }

    @Test
    void aLeaveAndReEnterAreTwoSessions() {
        Rows rows = run(m("pc", "enter", 0), m("pc", "leave", 8 * S), m("pc", "enter", 12 * S),
                m("pc", "leave", 20 * S));
        assertEquals(List.of("0..8000 leave t1 h1", "12000..20000 leave t1 h1"), rows.sessions);
        assertEquals(List.of("0: 0..8000 start", "0: 12000..20000 start"), rows.pieces);
    }

    @Test
    void aVoidEnterAtOnlineFromCounts() {
        Rows rows = run(m("pc", "enter", 40 * S), m("app", "enter", 40 * S),
                m("pc", "leave", 40 * S));
        assertEquals(List.of("40000..70000 timeout t1 h2"), rows.sessions);
        assertEquals(List.of("0: 40000..60000 start", "60000: 60000..70000 timeout"),
                rows.pieces);
    }

    @Test
    void aLongSessionHasOnePiecePerMinuteEmittedAtTheMinutesEnd() {
        List<Object[]> beats = new ArrayList<>();
        for (long at = 50 * S; at <= 170 * S; at += 10 * S) {
            beats.add(m("pc", at == 50 * S ? "enter" : "beat", at));
        }
        Rows rows = run(beats.toArray(new Object[0][]));
        assertEquals(List.of("50000..200000 timeout t1 h13"), rows.sessions);
        assertEquals(
                List.of("0: 50000..60000 start", "60000: 60000..120000",
                        "120000: 120000..180000", "180000: 180000..200000 timeout"),
                rows.pieces);
        // each piece when it became final: the minute's end, then the session's end
        assertEquals(List.of(60 * S, 120 * S, 180 * S, 200 * S, 200 * S), rows.emittedAt);
    }

    @Test
    void aSessionStartingAtAMinuteBoundaryBelongsToTheNewMinute() {
        Rows rows = run(m("pc", "enter", M), m("pc", "leave", M + 5 * S));
        assertEquals(List.of("60000: 60000..65000 start"), rows.pieces);
    }

    @Test
    void aLeaveEndingASessionIsNoTimeout() {
        Rows rows = run(m("pc", "enter", 40 * S), m("pc", "leave", M));
        assertEquals(List.of("40000..60000 leave t1 h1"), rows.sessions);
        assertEquals(List.of("0: 40000..60000 start"), rows.pieces);
    }

    @Test
    void aBeatAtTheMinutesEndContinuesTheSession() {
        Rows rows = run(m("pc", "enter", 30 * S), m("pc", "beat", M), m("pc", "leave", M + 1));
        assertEquals(List.of("30000..60001 leave t1 h2"), rows.sessions);
        assertEquals(List.of("0: 30000..60000 start", "60000: 60000..60001"), rows.pieces);
    }

    @Test
    void outOfOrderArrivalIsAppliedInEventTimeOrder() {
        Rows inOrder = run(m("pc", "enter", 0), m("app", "enter", 20 * S),
                m("pc", "leave", 25 * S), m("app", "beat", 45 * S));
        Rows shuffled = run(m("app", "beat", 45 * S), m("pc", "leave", 25 * S),
                m("app", "enter", 20 * S), m("pc", "enter", 0));
        assertEquals(List.of("0..75000 timeout t2 h3"), inOrder.sessions);
        assertEquals(inOrder.sessions, shuffled.sessions);
        assertEquals(inOrder.pieces, shuffled.pieces);
    }

    @Test
    void packingKeepsEverything() {
        UserPresence user = new UserPresence(T);
        user.add(T0, "pc", false);
        user.add(T0 + 5 * S, "移动端", false);
        user.add(T0 + 7 * S, "pc", true);
        user.add(T0 + 8 * S, "app", false);
        user.advance(T0 + 5 * S, new Rows());
        byte[] packed = user.pack();
        assertArrayEquals(packed, UserPresence.unpack(packed, T).pack());
        assertEquals(user.nextWake(), UserPresence.unpack(packed, T).nextWake());
    }

    @Test
    void anOnlineUserOnOneTerminalPacksSmall() {
        UserPresence user = new UserPresence(T);
        user.add(T0, "pc", false);
        user.add(T0 + 10 * S, "pc", false);
        user.advance(T0, new Rows());
        assertTrue(user.pack().length <= 24, "packed " + user.pack().length + " bytes");
    }
}
