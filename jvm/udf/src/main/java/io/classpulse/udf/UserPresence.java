package io.classpulse.udf;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The presence of one user in one room (LIVE_CLASSROOM_CONTRACT.md B.2, B.3), kept between
 * messages by {@link PresenceTracker} and packed into a few dozen bytes (one entry of its
 * bucket's map).
 *
 * <p>Messages are buffered until the watermark passes them, then applied in event-time order, one
 * instant at a time: the enters/beats of an instant first, its leaves after (a leave at the
 * instant of a beat wins). Per terminal only the end of its coverage so far is kept: a beat at t
 * pushes it to t + T, a leave at L cuts it to L. The user is online up to the furthest coverage
 * end (the reach); a session closes when time passes the reach with nothing extending it
 * (an enter/beat at exactly the reach extends it: touching intervals merge).
 *
 * <p>Besides sessions it emits one piece per session and minute it touches, for
 * room_concurrency_1min: the piece of [m, m + 60 s) the session covers, whether the session
 * started in it, and whether it timed out in it (online_to in (m, m + 60 s]). A piece is emitted
 * at the instant it becomes final: the session's end, or m + 60 s.
 */
public final class UserPresence {

    static final long MINUTE_MS = 60_000L;
    static final long NONE = Long.MIN_VALUE;

    /** Where the rows go. */
    public interface Sink {
        void session(long onlineFrom, long onlineTo, boolean byLeave, int terminals, long heartbeats);

        void piece(long minute, long pieceFrom, long pieceTo, boolean started, boolean timedOut);
    }

    private static final class Terminal {
        final String name;
        long coveredTo; // end of this terminal's coverage so far
        boolean inSession; // has covered a non-empty piece of the open session

        Terminal(String name, long coveredTo, boolean inSession) {
            this.name = name;
            this.coveredTo = coveredTo;
            this.inSession = inSession;
        }
    }

    private static final class Pending {
        final long at;
        final String terminal;
        final boolean leave;

        Pending(long at, String terminal, boolean leave) {
            this.at = at;
            this.terminal = terminal;
            this.leave = leave;
        }
    }

    private final long timeoutMs;
    boolean open;
    long onlineFrom;
    long heartbeats;
    long minuteEnd; // end of the minute whose piece of the open session is not emitted yet
    long lastLeave = NONE;
    private final List<Terminal> terminals = new ArrayList<>(2);
    private final List<Pending> pending = new ArrayList<>(2);

    public UserPresence(long timeoutMs) {
        this.timeoutMs = timeoutMs;
    }

    /** Buffers one message; applied when {@link #advance} passes its time. */
    public void add(long at, String terminal, boolean leave) {
        int index = pending.size();
        // sorted by time, then beats before leaves; equal ones keep arrival order
        while (index > 0 && after(pending.get(index - 1), at, leave)) {
            index--;
        }
        pending.add(index, new Pending(at, terminal, leave));
    }

    private static boolean after(Pending other, long at, boolean leave) {
        return other.at > at || (other.at == at && other.leave && !leave);
    }

    /** The next instant at which {@link #advance} has something to do, or {@link #NONE}. */
    public long nextWake() {
        long next = Long.MAX_VALUE;
        if (!pending.isEmpty()) {
            next = pending.get(0).at;
        }
        if (open) {
            next = Math.min(next, Math.min(reach(), minuteEnd));
        }
        return next == Long.MAX_VALUE ? NONE : next;
    }

    /** Nothing buffered, nothing open: the state can go. */
    public boolean isIdle() {
        return !open && pending.isEmpty();
    }

    /**
     * Time has reached {@code now} (the watermark passed it: every message at or before it has
     * arrived): applies the buffered messages up to it and emits what became final.
     */
    public void advance(long now, Sink sink) {
        while (!pending.isEmpty() && pending.get(0).at <= now) {
            long at = pending.get(0).at;
            settle(at - 1, sink);
            applyInstant(at);
            settle(at, sink);
        }
        settle(now, sink);
    }

    private long reach() {
        long reach = NONE;
        for (Terminal terminal : terminals) {
            reach = Math.max(reach, terminal.coveredTo);
        }
        return reach;
    }

    private Terminal terminal(String name) {
        for (Terminal terminal : terminals) {
            if (terminal.name.equals(name)) {
                return terminal;
            }
        }
        return null;
    }

    private void applyInstant(long at) {
        int beats = 0;
        List<Terminal> beating = new ArrayList<>(2);
        while (!pending.isEmpty() && pending.get(0).at == at) {
            Pending message = pending.remove(0);
            Terminal terminal = terminal(message.terminal);
            if (message.leave) {
                lastLeave = at;
                if (terminal != null) {
                    terminal.coveredTo = Math.min(terminal.coveredTo, at);
                    beating.remove(terminal); // the leave wins: its beats here cover nothing
                }
                continue;
            }
            beats++;
            if (terminal == null) {
                terminal = new Terminal(message.terminal, at + timeoutMs, false);
                terminals.add(terminal);
            } else {
                terminal.coveredTo = Math.max(terminal.coveredTo, at + timeoutMs);
            }
            if (!beating.contains(terminal)) {
                beating.add(terminal);
            }
        }
        if (!open) {
            if (beating.isEmpty()) {
                dropSilentTerminals(at);
                return; // only void beats or leaves: nothing online
            }
            open = true;
            onlineFrom = at;
            heartbeats = beats; // void beats at online_from lie inside it too
            minuteEnd = at - Math.floorMod(at, MINUTE_MS) + MINUTE_MS;
        } else if (reach() > at) {
            heartbeats += beats; // at < online_to
        }
        for (Terminal terminal : beating) {
            terminal.inSession = true;
        }
    }

    private void dropSilentTerminals(long at) {
        terminals.removeIf(terminal -> !terminal.inSession && terminal.coveredTo <= at);
    }

    /** Emits what is final once nothing more can happen at or before {@code now}. */
    private void settle(long now, Sink sink) {
        while (open) {
            long reach = reach();
            if (minuteEnd < reach && minuteEnd <= now) {
                long minute = minuteEnd - MINUTE_MS;
                sink.piece(minute, Math.max(onlineFrom, minute), minuteEnd, onlineFrom >= minute, false);
                minuteEnd += MINUTE_MS;
            } else if (reach <= now) {
                close(reach, sink);
            } else {
                return;
            }
        }
    }

    private void close(long onlineTo, Sink sink) {
        boolean byLeave = lastLeave == onlineTo;
        int count = 0;
        for (Terminal terminal : terminals) {
            if (terminal.inSession) {
                count++;
            }
        }
        long minute = minuteEnd - MINUTE_MS;
        sink.piece(minute, Math.max(onlineFrom, minute), onlineTo, onlineFrom >= minute, !byLeave);
        sink.session(onlineFrom, onlineTo, byLeave, count, heartbeats);
        open = false;
        terminals.clear(); // all covered up to onlineTo at most: nothing reaches further
        lastLeave = NONE;
        heartbeats = 0;
    }

    // -- packing -----------------------------------------------------------------------------
    // Varints; times as zig-zag deltas from the next wake (written first: every non-idle state has
    // one). Not packed: the timeout, an argument of the function, and where the tracker filed the
    // user (DueIndex), which it derives from the next wake.

    /** The terminal names of the contract (B.1), packed as their index; others as UTF-8. */
    private static final List<String> KNOWN_TERMINALS = List.of("pc", "mac", "h5", "app", "pcqq");

    public byte[] pack() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(32);
        long wake = nextWake();
        long base = wake == NONE ? 0 : wake;
        writeVarint(out, wake == NONE ? 0 : wake + 1);
        int flags = (open ? 1 : 0) | (lastLeave != NONE ? 2 : 0);
        out.write(flags);
        if (open) {
            writeTime(out, onlineFrom, base);
            writeVarint(out, heartbeats);
            writeTime(out, minuteEnd, base);
        }
        if (lastLeave != NONE) {
            writeTime(out, lastLeave, base);
        }
        writeVarint(out, terminals.size());
        for (Terminal terminal : terminals) {
            writeName(out, terminal.name);
            writeVarint(out, zigzag(terminal.coveredTo - base) << 1 | (terminal.inSession ? 1 : 0));
        }
        writeVarint(out, pending.size());
        for (Pending message : pending) {
            writeVarint(out, zigzag(message.at - base) << 1 | (message.leave ? 1 : 0));
            writeName(out, message.terminal);
        }
        return out.toByteArray();
    }

    public static UserPresence unpack(byte[] bytes, long timeoutMs) {
        Reader in = new Reader(bytes);
        UserPresence user = new UserPresence(timeoutMs);
        long wakePlusOne = in.varint();
        long base = wakePlusOne == 0 ? 0 : wakePlusOne - 1;
        int flags = in.bytes[in.position++];
        user.open = (flags & 1) != 0;
        if (user.open) {
            user.onlineFrom = in.time(base);
            user.heartbeats = in.varint();
            user.minuteEnd = in.time(base);
        }
        if ((flags & 2) != 0) {
            user.lastLeave = in.time(base);
        }
        for (long n = in.varint(); n > 0; n--) {
            String name = in.name();
            long packed = in.varint();
            user.terminals.add(new Terminal(name, unzigzag(packed >>> 1) + base, (packed & 1) != 0));
        }
        for (long n = in.varint(); n > 0; n--) {
            long packed = in.varint();
            String name = in.name();
            user.pending.add(new Pending(unzigzag(packed >>> 1) + base, name, (packed & 1) != 0));
        }
        return user;
    }

    static long zigzag(long value) {
        return (value << 1) ^ (value >> 63);
    }

    static long unzigzag(long value) {
        return (value >>> 1) ^ -(value & 1);
    }

    static void writeVarint(ByteArrayOutputStream out, long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((int) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        out.write((int) value);
    }

    private static void writeTime(ByteArrayOutputStream out, long time, long base) {
        writeVarint(out, zigzag(time - base));
    }

    /** A known terminal as its index; any other name as (count of known + length), UTF-8. */
    private static void writeName(ByteArrayOutputStream out, String name) {
        int known = KNOWN_TERMINALS.indexOf(name);
        if (known >= 0) {
            writeVarint(out, known);
            return;
        }
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        writeVarint(out, KNOWN_TERMINALS.size() + (long) bytes.length);
        out.write(bytes, 0, bytes.length);
    }

    static final class Reader {
        final byte[] bytes;
        int position;

        Reader(byte[] bytes) {
            this.bytes = bytes;
        }

        long varint() {
            long value = 0;
            int shift = 0;
            while (true) {
                byte next = bytes[position++];
                value |= (long) (next & 0x7F) << shift;
                if (next >= 0) {
                    return value;
                }
                shift += 7;
            }
        }

        long time(long base) {
            return unzigzag(varint()) + base;
        }

        String name() {
            long code = varint();
            if (code < KNOWN_TERMINALS.size()) {
                return KNOWN_TERMINALS.get((int) code);
            }
            int length = (int) (code - KNOWN_TERMINALS.size());
            String value = new String(bytes, position, length, StandardCharsets.UTF_8);
            position += length;
            return value;
        }
    }
}
