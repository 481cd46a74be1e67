package io.classpulse.udf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.junit.jupiter.api.Test;

/** The cache against a loader of the test's own whose answers the test completes by hand. */
class LookupCacheTest {

    private static final Collection<RowData> FOUND = List.of(GenericRowData.of(1L));
    private static final Collection<RowData> FOUND_AGAIN = List.of(GenericRowData.of(2L));
    private static final Collection<RowData> MISSING = Collections.emptyList();
    private static final List<Object> KEY = List.of(1L);

    /** Records every load and leaves it pending until the test answers it. */
    private static final class Loader {
        final List<List<Object>> keys = new ArrayList<>();
        final List<CompletableFuture<Collection<RowData>>> calls = new ArrayList<>();

        CompletableFuture<Collection<RowData>> load(List<Object> key) {
            CompletableFuture<Collection<RowData>> call = new CompletableFuture<>();
            keys.add(key);
            calls.add(call);
            return call;
        }

        void answer(Collection<RowData> rows) {
            calls.get(calls.size() - 1).complete(rows);
        }

        void fail() {
            calls.get(calls.size() - 1).completeExceptionally(new IOException("warehouse down"));
        }
    }

    private final AtomicLong clock = new AtomicLong();
    private final Loader loader = new Loader();
    private final LookupCache.Counters counters = LookupCache.Counters.simple();

    private LookupCache cache(int maxRows, long expireAfterMs) {
        return new LookupCache(maxRows, 60_000, 10_000, expireAfterMs, loader::load, clock::get,
                counters);
    }

    private static Collection<RowData> now(CompletableFuture<Collection<RowData>> answer) {
        assertTrue(answer.isDone(), "answered from the cache, without waiting");
        return answer.join();
    }

    /** A cache (10 rows, answers kept 600 s) whose first load of KEY answered {@code rows}. */
    private LookupCache cacheHolding(Collection<RowData> rows) {
        LookupCache cache = cache(10, 600_000);
        cache.get(KEY);
        loader.answer(rows);
        return cache;
    }

    /** How many loads the cache started, and its miss and hit counters. */
    private void assertLoadsMissesHits(int loads, long misses, long hits) {
        assertEquals(loads, loader.calls.size());
        assertEquals(misses, counters.misses.getCount());
        assertEquals(hits, counters.hits.getCount());
    }

    /** What the cache answers for KEY at {@code timeMs}, without waiting. */
    private Collection<RowData> servedAt(LookupCache cache, long timeMs) {
        clock.set(timeMs);
        return now(cache.get(KEY));
    }

    @Test
    void concurrentMissesShareOneLoadAndTheAnswerIsCached() {
        LookupCache cache = cache(10, 600_000);
        CompletableFuture<Collection<RowData>> first = cache.get(KEY);
        CompletableFuture<Collection<RowData>> second = cache.get(KEY);
        assertFalse(first.isDone());
        assertEquals(1, loader.calls.size());
        loader.answer(FOUND);
        assertSame(FOUND, first.join());
        assertSame(FOUND, second.join());
        assertSame(FOUND, servedAt(cache, 59_999));
        assertLoadsMissesHits(1, 2, 1);
        assertEquals(0, counters.refreshes.getCount());
    }

    @Test
    void aStaleAnswerIsServedWhileOneReloadReplacesIt() {
        LookupCache cache = cacheHolding(FOUND);
        assertSame(FOUND, servedAt(cache, 60_000));  // no longer fresh
        assertSame(FOUND, now(cache.get(KEY)));  // the reload is running: not a second one
        assertEquals(2, loader.calls.size());
        assertEquals(1, counters.refreshes.getCount());
        loader.answer(FOUND_AGAIN);
        assertSame(FOUND_AGAIN, now(cache.get(KEY)));
        // the reload restarted both clocks: fresh until 120 s
        assertSame(FOUND_AGAIN, servedAt(cache, 119_999));
        assertLoadsMissesHits(2, 1, 4);
    }

    @Test
    void aFailedReloadKeepsTheOldAnswerCountsAnErrorAndIsRetriedAMissTtlLater() {
        LookupCache cache = cacheHolding(FOUND);
        assertSame(FOUND, servedAt(cache, 70_000));
        loader.fail();
        assertEquals(1, counters.errors.getCount());
        assertSame(FOUND, servedAt(cache, 79_999));
        assertEquals(2, loader.calls.size());  // not yet tried again
        assertSame(FOUND, servedAt(cache, 80_000));
        assertEquals(3, loader.calls.size());
        assertEquals(2, counters.refreshes.getCount());
    }

    @Test
    void anAnswerNotRefreshedExpiresAfterTheLongerTtl() {
        LookupCache cache = cacheHolding(FOUND);
        clock.set(100_000);
        cache.get(KEY);
        loader.fail();
        clock.set(600_000);  // written at 0: expired, the lookup waits for the loader
        CompletableFuture<Collection<RowData>> answer = cache.get(KEY);
        assertFalse(answer.isDone());
        loader.fail();
        assertTrue(answer.isCompletedExceptionally());  // a failed first load: the caller decides
        assertEquals(0, cache.size());
        assertEquals(2, counters.misses.getCount());
        assertEquals(2, counters.errors.getCount());
    }

    @Test
    void aMissingDimensionIsCachedAsMissingAndRefreshedSooner() {
        LookupCache cache = cacheHolding(MISSING);
        assertSame(MISSING, servedAt(cache, 9_999));
        assertEquals(1, loader.calls.size());
        assertSame(MISSING, servedAt(cache, 10_000));  // stale: served, reloaded
        assertEquals(2, loader.calls.size());
        loader.answer(FOUND);  // preheated meanwhile
        assertSame(FOUND, now(cache.get(KEY)));
    }

    @Test
    void withoutALongerTtlAnswersExpireWhenTheyStopBeingFresh() {
        LookupCache cache = cache(10, 0);
        cache.get(List.of(1L));
        loader.answer(FOUND);
        cache.get(List.of(2L));
        loader.answer(MISSING);
        clock.set(9_999);
        assertSame(MISSING, now(cache.get(List.of(2L))));
        clock.set(10_000);
        assertFalse(cache.get(List.of(2L)).isDone());
        loader.answer(MISSING);
        clock.set(59_999);
        assertSame(FOUND, now(cache.get(List.of(1L))));
        clock.set(60_000);
        assertFalse(cache.get(List.of(1L)).isDone());
        assertEquals(0, counters.refreshes.getCount());
    }

    @Test
    void theLeastRecentlyUsedKeyIsEvicted() {
        LookupCache cache = cache(2, 600_000);
        for (long key = 1; key <= 2; key++) {
            cache.get(List.of(key));
            loader.answer(FOUND);
        }
        now(cache.get(List.of(1L)));
        cache.get(List.of(3L));
        loader.answer(FOUND);
        assertEquals(2, cache.size());
        assertSame(FOUND, now(cache.get(List.of(1L))));
        assertFalse(cache.get(List.of(2L)).isDone());
        assertEquals(List.of(2L), loader.keys.get(loader.keys.size() - 1));
    }

    /**
     * The paced benchmark's pattern: 220 rooms (20 never preheated), each window's two label rows
     * per room asking at the window's close, every 30 s for 10 minutes; hit rate after the first
     * two windows. A plain TTL cache (hits 60 s, misses 10 s) reloads every other window and
     * misses every unknown room; with refresh after write only the warm-up misses.
     */
    @Test
    void afterWarmUpRefreshAfterWriteKeepsEveryRoomAHitWhereAPlainTtlCannot() {
        assertEquals(1.0, hitRateAfterWarmUp(600_000), 1e-9);
        double plain = hitRateAfterWarmUp(0);
        assertTrue(plain < 0.8, "plain TTL hit rate " + plain);
    }

    private static double hitRateAfterWarmUp(long expireAfterMs) {
        AtomicLong time = new AtomicLong();
        LookupCache.Counters counted = LookupCache.Counters.simple();
        LookupCache cache = new LookupCache(100_000, 60_000, 10_000, expireAfterMs,
                key -> CompletableFuture.completedFuture((Long) key.get(0) < 200 ? FOUND : MISSING),
                time::get, counted);
        long hitsBefore = 0;
        long missesBefore = 0;
        for (int window = 0; window < 20; window++) {
            if (window == 2) {
                hitsBefore = counted.hits.getCount();
                missesBefore = counted.misses.getCount();
            }
            time.set(30_000L * window);
            for (long room = 0; room < 220; room++) {
                cache.get(List.of(room));
                cache.get(List.of(room));
            }
        }
        long hits = counted.hits.getCount() - hitsBefore;
        long misses = counted.misses.getCount() - missesBefore;
        return (double) hits / (hits + misses);
    }
}
