package io.classpulse.udf;

import java.util.Arrays;

import org.apache.flink.table.functions.AggregateFunction;

/**
 * {@code max_overlap(from, to)}: the largest number of half-open intervals [from, to) that hold
 * one instant in common. A sweep over the sorted ends and starts; at one instant the ends count
 * first, so touching intervals do not overlap. Empty intervals (to <= from) and NULLs are
 * ignored; no interval gives 0.
 *
 * <p>room_concurrency_1min's peak_online (LIVE_CLASSROOM_CONTRACT.md B.3): the pieces of the
 * sessions that intersect one minute, clipped to it; a user's sessions never overlap, so the
 * overlap counts distinct users. The rule itself (which intervals, clipped how) stays in SQL.
 */
public class MaxOverlap extends AggregateFunction<Long, MaxOverlap.Intervals> {

    /** The intervals seen so far, in two growing arrays. */
    public static class Intervals {
        public long[] starts = new long[8];
        public long[] ends = new long[8];
        public int size = 0;

        void add(long from, long to) {
            if (size == starts.length) {
                starts = Arrays.copyOf(starts, size * 2);
                ends = Arrays.copyOf(ends, size * 2);
            }
            starts[size] = from;
            ends[size] = to;
            size++;
        }
    }

    @Override
    public Intervals createAccumulator() {
        return new Intervals();
    }

    public void accumulate(Intervals acc, Long from, Long to) {
        if (from != null && to != null && to > from) {
            acc.add(from, to);
        }
    }

    public void merge(Intervals acc, Iterable<Intervals> others) {
        for (Intervals other : others) {
            for (int i = 0; i < other.size; i++) {
                acc.add(other.starts[i], other.ends[i]);
            }
        }
    }

    @Override
    public Long getValue(Intervals acc) {
        return sweep(acc.starts, acc.ends, acc.size);
    }

    static long sweep(long[] startValues, long[] endValues, int size) {
        long[] starts = Arrays.copyOf(startValues, size);
        long[] ends = Arrays.copyOf(endValues, size);
        Arrays.sort(starts);
        Arrays.sort(ends);
        long open = 0;
        long max = 0;
        int j = 0;
        for (int i = 0; i < size; i++) {
            while (j < size && ends[j] <= starts[i]) { // ends at this instant first
                open--;
                j++;
            }
            open++;
            max = Math.max(max, open);
        }
        return max;
    }
}
