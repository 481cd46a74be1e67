package io.classpulse.udf;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.table.data.RowData;

/**
 * Answers of a lookup by key: a hit (rows found) lives {@code hitTtlMs}, a miss (no row)
 * {@code missTtlMs}, at most {@code maxRows} keys, the least recently used evicted first.
 * Thread-safe (lookups complete on the HTTP client's threads).
 */
final class LookupCache {

    private static final class Answer {
        final Collection<RowData> rows;
        final long expiresAt;

        Answer(Collection<RowData> rows, long expiresAt) {
            this.rows = rows;
            this.expiresAt = expiresAt;
        }
    }

    private final long hitTtlMs;
    private final long missTtlMs;
    private final LinkedHashMap<List<Object>, Answer> entries;

    LookupCache(int maxRows, long hitTtlMs, long missTtlMs) {
        this.hitTtlMs = hitTtlMs;
        this.missTtlMs = missTtlMs;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<List<Object>, Answer> eldest) {
                return size() > maxRows;
            }
        };
    }

    synchronized Collection<RowData> get(List<Object> key, long now) {
        Answer entry = entries.get(key);
        if (entry == null) {
            return null;
        }
        if (now >= entry.expiresAt) {
            entries.remove(key);
            return null;
        }
        return entry.rows;
    }

    synchronized void put(List<Object> key, Collection<RowData> rows, long now) {
        long ttl = rows.isEmpty() ? missTtlMs : hitTtlMs;
        if (ttl > 0) {
            entries.put(key, new Answer(rows, now + ttl));
        }
    }

    synchronized int size() {
        return entries.size();
    }
}
