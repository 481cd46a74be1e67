package io.classpulse.udf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

/**
 * The due-time index of one bucket: a firing takes exactly the users filed under its slot, slots
 * come out in time order, a moved user sits in its new slot only, and an emptied slot leaves
 * both the store and the ordered slots (nothing stale is kept in the state).
 */
class DueIndexTest {

    private static final long NONE = DueIndex.NONE;

    /** The function's state map, here a plain map. */
    private static final class MapStore implements DueIndex.Store {
        final Map<Long, byte[]> slots = new HashMap<>();

        @Override
        public byte[] get(long slot) {
            return slots.get(slot);
        }

        @Override
        public void put(long slot, byte[] uids) {
            slots.put(slot, uids);
        }

        @Override
        public void remove(long slot) {
            slots.remove(slot);
        }
    }

    @Test
    void aFiringTakesOnlyTheUsersOfItsSlotInTimeOrder() throws Exception {
        MapStore store = new MapStore();
        // negative uids pack too (zig-zag)
        DueIndex index = filed(store, 7, 3_000, 1, 1_000, -5, 3_000, 1L << 40, 2_000);
        assertEquals(1_000, index.first());
        assertArrayEquals(new long[] {1_000, 2_000, 3_000}, index.slots());
        assertArrayEquals(new long[] {1}, index.takeFirst());
        assertArrayEquals(new long[] {1L << 40}, index.takeFirst());
        assertArrayEquals(new long[] {7, -5}, index.takeFirst());
        assertEquals(NONE, index.first());
        assertTrue(store.slots.isEmpty());
    }

    @Test
    void aMovedUserLeavesItsOldSlotAndAnEmptySlotGoes() throws Exception {
        MapStore store = new MapStore();
        DueIndex index = filed(store, 1, 5_000, 2, 5_000);
        index.move(1, 5_000, 2_000); // an earlier message: due sooner
        index.move(2, 5_000, 9_000); // applied: due at its reach
        assertArrayEquals(new long[] {2_000, 9_000}, index.slots());
        assertEquals(Map.of(2_000L, 1, 9_000L, 1), sizes(store));
        index.move(1, 2_000, 2_000); // same slot: nothing to do
        assertArrayEquals(new long[] {1}, DueIndex.decode(store.get(2_000)));
    }

    @Test
    void aUserMovedTwiceSitsInItsLastSlotOnly() throws Exception {
        MapStore store = new MapStore();
        DueIndex index = filed(store, 1, 5_000, 2, 5_000, 3, 5_000);
        index.move(2, 5_000, 7_000);
        index.move(2, 7_000, 9_000); // its first new slot empties and goes
        assertArrayEquals(new long[] {5_000, 9_000}, index.slots());
        assertEquals(Map.of(5_000L, 2, 9_000L, 1), sizes(store));
        assertArrayEquals(new long[] {1, 3}, index.takeFirst());
        assertArrayEquals(new long[] {2}, index.takeFirst());
    }

    @Test
    void aUserMovedBackToItsOldSlotIsThereOnce() throws Exception {
        MapStore store = new MapStore();
        DueIndex index = filed(store, 1, 5_000, 2, 5_000);
        index.move(1, 5_000, 2_000);
        index.move(1, 2_000, 5_000);
        assertArrayEquals(new long[] {5_000}, index.slots());
        assertArrayEquals(new long[] {2, 1}, index.takeFirst());
        assertEquals(NONE, index.first());
    }

    @Test
    void aRemovedUserIsInNoSlot() throws Exception {
        MapStore store = new MapStore();
        DueIndex index = filed(store, 1, 5_000, 2, 5_000);
        index.move(2, 5_000, NONE);
        index.move(1, 5_000, NONE); // the last one: the slot goes
        assertEquals(NONE, index.first());
        assertTrue(store.slots.isEmpty());
    }

    /** Cut out of the middle, the first and the last place, across varints of 1 to 10 bytes. */
    @Test
    void anyUidLeavesAnyPlaceOfItsSlotExactly() throws Exception {
        long[] uids = {0, -1, 63, 64, -65, 8_191, 8_192, 1L << 40, Long.MAX_VALUE, Long.MIN_VALUE};
        for (int gone = 0; gone < uids.length; gone++) {
            MapStore store = new MapStore();
            DueIndex index = new DueIndex(store, null);
            for (long uid : uids) {
                index.move(uid, NONE, 1_000);
            }
            index.move(uids[gone], 1_000, NONE);
            long[] left = new long[uids.length - 1];
            for (int i = 0, j = 0; i < uids.length; i++) {
                if (i != gone) {
                    left[j++] = uids[i];
                }
            }
            assertArrayEquals(left, DueIndex.decode(store.get(1_000)));
        }
    }

    @Test
    void theSlotsKeptWithTheBucketRebuildTheIndex() throws Exception {
        MapStore store = new MapStore();
        DueIndex again = new DueIndex(store, filed(store, 3, 4_000, 4, 6_000).slots()); // as on the next call
        assertArrayEquals(new long[] {3}, again.takeFirst());
        assertEquals(6_000, again.first());
    }

    /** Random moves against a plain model: uid -> slot, every firing in order. */
    @Test
    void manyUsersMovingAtRandomAreEachTakenOnceAtTheirLastSlot() throws Exception {
        Random random = new Random(12);
        MapStore store = new MapStore();
        DueIndex index = new DueIndex(store, null);
        Map<Long, Long> model = new HashMap<>();
        for (int step = 0; step < 5_000; step++) {
            long uid = random.nextInt(300);
            long to = 1_000L * random.nextInt(90);
            index.move(uid, model.getOrDefault(uid, NONE), to);
            model.put(uid, to);
        }
        TreeMap<Long, TreeSet<Long>> expected = new TreeMap<>();
        model.forEach((uid, slot) -> expected.computeIfAbsent(slot, s -> new TreeSet<>()).add(uid));
        assertArrayEquals(
                expected.keySet().stream().mapToLong(Long::longValue).toArray(), index.slots());
        for (Map.Entry<Long, TreeSet<Long>> slot : expected.entrySet()) {
            assertEquals(slot.getKey(), index.first());
            TreeSet<Long> taken = new TreeSet<>();
            for (long uid : index.takeFirst()) {
                assertTrue(taken.add(uid), "uid " + uid + " twice");
            }
            assertEquals(slot.getValue(), taken);
        }
        assertEquals(NONE, index.first());
        assertTrue(store.slots.isEmpty());
    }

    /** A new index with each (uid, slot) of {@code uidsAndSlots} filed, in that order. */
    private static DueIndex filed(MapStore store, long... uidsAndSlots) throws Exception {
        DueIndex index = new DueIndex(store, null);
        for (int i = 0; i < uidsAndSlots.length; i += 2) {
            index.move(uidsAndSlots[i], NONE, uidsAndSlots[i + 1]);
        }
        return index;
    }

    private static Map<Long, Integer> sizes(MapStore store) {
        Map<Long, Integer> sizes = new HashMap<>();
        store.slots.forEach((slot, uids) -> sizes.put(slot, DueIndex.decode(uids).length));
        return sizes;
    }
}
