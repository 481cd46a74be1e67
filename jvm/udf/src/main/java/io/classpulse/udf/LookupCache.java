package io.classpulse.udf;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongSupplier;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.table.data.RowData;

/**
 * Answers of a lookup by key with refresh after write. A found answer is fresh for
 * {@code hitTtlMs}, a missing one (no row) for the shorter {@code missTtlMs}; after that the
 * answer is still served while one asynchronous reload replaces it, until it is
 * {@code expireAfterMs} old (then the next lookup waits for the loader). A failed reload keeps the
 * old answer, counts an error and is tried again {@code missTtlMs} later. Concurrent loads of one
 * key share one call of the loader. At most {@code maxRows} keys, the least recently used
 * evicted first. Thread-safe (loads complete on the HTTP client's threads).
 *
 * <p>With {@code expireAfterMs <= ttl} an answer expires when it stops being fresh: a plain
 * time-to-live cache.
 */
final class LookupCache {

    /** hits (fresh or stale answers served), misses, refreshes started, failed loads. */
    static final class Counters {
        final Counter hits;
        final Counter misses;
        final Counter refreshes;
        final Counter errors;

        Counters(Counter hits, Counter misses, Counter refreshes, Counter errors) {
            this.hits = hits;
            this.misses = misses;
            this.refreshes = refreshes;
            this.errors = errors;
        }

        static Counters simple() {
            return new Counters(new SimpleCounter(), new SimpleCounter(), new SimpleCounter(),
                    new SimpleCounter());
        }
    }

    private static final class Answer {
        final Collection<RowData> rows;
        final long expiresAt;
        long refreshAt;
        boolean refreshing;

        Answer(Collection<RowData> rows, long refreshAt, long expiresAt) {
            this.rows = rows;
            this.refreshAt = refreshAt;
            this.expiresAt = expiresAt;
        }
    }

    private final long hitTtlMs;
    private final long missTtlMs;
    private final long expireAfterMs;
    private final Function<List<Object>, CompletableFuture<Collection<RowData>>> loader;
    private final LongSupplier clock;
    private final Counters counters;
    private final LinkedHashMap<List<Object>, Answer> entries;
    private final ConcurrentHashMap<List<Object>, CompletableFuture<Collection<RowData>>> loading =
            new ConcurrentHashMap<>();

    LookupCache(int maxRows, long hitTtlMs, long missTtlMs, long expireAfterMs,
            Function<List<Object>, CompletableFuture<Collection<RowData>>> loader,
            LongSupplier clock, Counters counters) {
        this.hitTtlMs = hitTtlMs;
        this.missTtlMs = missTtlMs;
        this.expireAfterMs = expireAfterMs;
        this.loader = loader;
        this.clock = clock;
        this.counters = counters;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<List<Object>, Answer> eldest) {
                return size() > maxRows;
            }
        };
    }

    /**
     * The answer for key: the cached one at once (starting a reload if it is no longer fresh),
     * else the loader's. A failed first load fails the future (nothing is cached).
     */
    CompletableFuture<Collection<RowData>> get(List<Object> key) {
        return get(key, counters);
    }

    /** As {@link #get(List)}, the hit, miss or refresh counted in the caller's counters. */
    CompletableFuture<Collection<RowData>> get(List<Object> key, Counters counters) {
        long now = clock.getAsLong();
        Collection<RowData> cached;
        boolean refresh = false;
        synchronized (this) {
            Answer answer = entries.get(key);
            if (answer != null && now >= answer.expiresAt) {
                entries.remove(key);
                answer = null;
            }
            cached = answer == null ? null : answer.rows;
            if (answer != null && now >= answer.refreshAt && !answer.refreshing) {
                answer.refreshing = true;
                refresh = true;
            }
        }
        if (cached != null) {
            counters.hits.inc();
            if (refresh) {
                counters.refreshes.inc();
                load(key).whenComplete((rows, failure) -> {
                    if (failure != null) {
                        refreshFailed(key);
                    }
                });
            }
            return CompletableFuture.completedFuture(cached);
        }
        counters.misses.inc();
        return load(key);
    }

    /** One loader call per key at a time; a success is cached, a failure counted. */
    private CompletableFuture<Collection<RowData>> load(List<Object> key) {
        CompletableFuture<Collection<RowData>> shared = new CompletableFuture<>();
        CompletableFuture<Collection<RowData>> running = loading.putIfAbsent(key, shared);
        if (running != null) {
            return running;
        }
        CompletableFuture<Collection<RowData>> call;
        try {
            call = loader.apply(key);
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        call.whenComplete((rows, failure) -> {
            if (failure == null) {
                put(key, rows);
            } else {
                counters.errors.inc();
            }
            loading.remove(key);
            if (failure == null) {
                shared.complete(rows);
            } else {
                shared.completeExceptionally(failure);
            }
        });
        return shared;
    }

    private synchronized void put(List<Object> key, Collection<RowData> rows) {
        long now = clock.getAsLong();
        long ttl = rows.isEmpty() ? missTtlMs : hitTtlMs;
        if (ttl > 0) {
            entries.put(key, new Answer(rows, now + ttl, now + Math.max(ttl, expireAfterMs)));
        } else {
            entries.remove(key);
        }
    }

    /** The old answer stays until it expires; the next reload is tried a miss TTL later. */
    private synchronized void refreshFailed(List<Object> key) {
        Answer answer = entries.get(key);
        if (answer != null) {
            answer.refreshing = false;
            answer.refreshAt = clock.getAsLong() + missTtlMs;
        }
    }

    synchronized int size() {
        return entries.size();
    }
}
