package io.classpulse.udf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

class MaxOverlapTest {

    private static long peak(long[][] intervals) {
        MaxOverlap function = new MaxOverlap();
        MaxOverlap.Intervals acc = function.createAccumulator();
        for (long[] interval : intervals) {
            function.accumulate(acc, interval[0], interval[1]);
        }
        return function.getValue(acc);
    }

    @Test
    void nothingGivesZero() {
        assertEquals(0L, peak(new long[][] {}));
    }

    @Test
    void touchingIntervalsDoNotOverlap() {
        assertEquals(1L, peak(new long[][] {{0, 10}, {10, 20}, {20, 30}}));
    }

    @Test
    void nestedAndCrossingIntervalsCount() {
        assertEquals(3L, peak(new long[][] {{0, 60}, {5, 10}, {8, 30}, {10, 12}, {40, 50}}));
    }

    @Test
    void emptyAndNullIntervalsAreIgnored() {
        MaxOverlap function = new MaxOverlap();
        MaxOverlap.Intervals acc = function.createAccumulator();
        function.accumulate(acc, 5L, 5L);
        function.accumulate(acc, null, 9L);
        function.accumulate(acc, 1L, 3L);
        assertEquals(1L, function.getValue(acc));
    }

    @Test
    void mergeKeepsEveryInterval() {
        MaxOverlap function = new MaxOverlap();
        MaxOverlap.Intervals left = function.createAccumulator();
        MaxOverlap.Intervals right = function.createAccumulator();
        for (int i = 0; i < 20; i++) {
            function.accumulate(i % 2 == 0 ? left : right, (long) i, 100L);
        }
        function.merge(left, List.of(right));
        assertEquals(20L, function.getValue(left));
    }
}
