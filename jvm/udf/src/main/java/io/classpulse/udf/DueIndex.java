package io.classpulse.udf;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * Which users of one bucket of {@link PresenceTracker} are due at which instant of its grid, so
 * that the bucket's one timer visits only the users due when it fires, never all of them.
 *
 * <p>Two parts: the slots (grid instants) that have users due, in order, a small array kept with
 * the bucket (at most one slot per grid step of the next T + 60 s, whatever the bucket's size),
 * whose first is the instant of the bucket's timer; and per slot its uids, as zig-zag varints in
 * a byte array stored by {@link Store} (a map of the function's state, read only for the slots
 * that change or fire). Each user with something due sits in exactly one slot: the tracker moves
 * it whenever its next wake changes slot.
 */
final class DueIndex {

    static final long NONE = UserPresence.NONE;

    /** Where a slot's uids are kept (the function's state; a plain map in the unit tests). */
    interface Store {
        byte[] get(long slot) throws Exception;

        void put(long slot, byte[] uids) throws Exception;

        void remove(long slot) throws Exception;
    }

    private final Store store;
    private long[] slots;

    DueIndex(Store store, long[] slots) {
        this.store = store;
        this.slots = slots == null ? new long[0] : slots;
    }

    /** The slots with users due, ascending: what the bucket keeps besides the store. */
    long[] slots() {
        return slots;
    }

    /** The earliest slot with users due (the bucket's timer), or {@link #NONE}. */
    long first() {
        return slots.length == 0 ? NONE : slots[0];
    }

    /** Moves {@code uid} from slot {@code from} to slot {@code to}; either may be NONE. */
    void move(long uid, long from, long to) throws Exception {
        if (from == to) {
            return;
        }
        if (from != NONE) {
            remove(uid, from);
        }
        if (to != NONE) {
            add(uid, to);
        }
    }

    /** The uids of the first slot, which leaves the index (its users are advanced now). */
    long[] takeFirst() throws Exception {
        long slot = first();
        if (slot == NONE) {
            return new long[0];
        }
        long[] uids = decode(store.get(slot));
        store.remove(slot);
        slots = Arrays.copyOfRange(slots, 1, slots.length);
        return uids;
    }

    private void add(long uid, long slot) throws Exception {
        byte[] uids = store.get(slot);
        if (uids == null) {
            int at = Arrays.binarySearch(slots, slot);
            long[] more = new long[slots.length + 1];
            int insert = -at - 1;
            System.arraycopy(slots, 0, more, 0, insert);
            more[insert] = slot;
            System.arraycopy(slots, insert, more, insert + 1, slots.length - insert);
            slots = more;
            uids = new byte[0];
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(uids.length + 3);
        out.write(uids, 0, uids.length);
        UserPresence.writeVarint(out, UserPresence.zigzag(uid));
        store.put(slot, out.toByteArray());
    }

    /**
     * Takes {@code uid} out of the slot by cutting its varint out of the slot's bytes: a scan of
     * the bytes and one copy, nothing decoded into numbers and written back (a big room's slot
     * holds hundreds of users, and every heartbeat moves its user out of the slot it waited in).
     */
    private void remove(long uid, long slot) throws Exception {
        byte[] uids = store.get(slot);
        int[] found = find(uids, UserPresence.zigzag(uid));
        if (found == null) {
            return;
        }
        int length = found[1] - found[0];
        if (length < uids.length) {
            byte[] fewer = new byte[uids.length - length];
            System.arraycopy(uids, 0, fewer, 0, found[0]);
            System.arraycopy(uids, found[1], fewer, found[0], fewer.length - found[0]);
            store.put(slot, fewer);
            return;
        }
        store.remove(slot);
        int at = Arrays.binarySearch(slots, slot);
        if (at >= 0) {
            long[] fewer = new long[slots.length - 1];
            System.arraycopy(slots, 0, fewer, 0, at);
            System.arraycopy(slots, at + 1, fewer, at, fewer.length - at);
            slots = fewer;
        }
    }

    /** Where the varint {@code value} sits in {@code bytes}: {start, end}, or null. */
    private static int[] find(byte[] bytes, long value) {
        if (bytes == null) {
            return null;
        }
        UserPresence.Reader in = new UserPresence.Reader(bytes);
        while (in.position < bytes.length) {
            int start = in.position;
            if (in.varint() == value) {
                return new int[] {start, in.position};
            }
        }
        return null;
    }

    static long[] decode(byte[] bytes) {
        if (bytes == null) {
            return new long[0];
        }
        long[] values = new long[bytes.length];
        int count = 0;
        UserPresence.Reader in = new UserPresence.Reader(bytes);
        while (in.position < bytes.length) {
            values[count++] = UserPresence.unzigzag(in.varint());
        }
        return Arrays.copyOf(values, count);
    }
}
