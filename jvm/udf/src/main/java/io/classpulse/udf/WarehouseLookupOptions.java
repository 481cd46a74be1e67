package io.classpulse.udf;

import java.io.Serializable;
import java.util.regex.Pattern;

/** The options of one {@code classpulse-warehouse} table (see {@link WarehouseLookupFactory}). */
public final class WarehouseLookupOptions implements Serializable {

    private static final long serialVersionUID = 1L;
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern RELATION = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");

    final String url;
    final String username;
    final String password;
    final String relation;
    final String latestBy;
    final String statusColumn;
    final long timeoutMs;
    final int maxRetries;
    final long hitTtlMs;
    final long missTtlMs;
    final int maxRows;
    final long expireAfterMs;
    final int batchSize;
    final int maxConcurrentQueries;

    public WarehouseLookupOptions(
            String url, String username, String password, String relation, String latestBy,
            String statusColumn, long timeoutMs, int maxRetries, long hitTtlMs, long missTtlMs,
            int maxRows, long expireAfterMs, int batchSize, int maxConcurrentQueries) {
        this.url = url;
        this.username = username;
        this.password = password;
        this.relation = relation;
        this.latestBy = latestBy;
        this.statusColumn = statusColumn;
        this.timeoutMs = timeoutMs;
        this.maxRetries = maxRetries;
        this.hitTtlMs = hitTtlMs;
        this.missTtlMs = missTtlMs;
        this.maxRows = maxRows;
        this.expireAfterMs = expireAfterMs;
        this.batchSize = batchSize;
        this.maxConcurrentQueries = maxConcurrentQueries;
    }

    /** Names go into SQL text: only plain identifiers are accepted. */
    void validate() {
        if (!url.startsWith("http://") && !url.startsWith("https://")) {
            throw new IllegalArgumentException("'url' must be an http(s) URL, got " + url);
        }
        if (!RELATION.matcher(relation).matches()) {
            throw new IllegalArgumentException("'relation' must be [database.]name, got " + relation);
        }
        if (latestBy != null && !IDENTIFIER.matcher(latestBy).matches()) {
            throw new IllegalArgumentException("'latest-by' must be a column name, got " + latestBy);
        }
        if (timeoutMs <= 0 || maxRetries < 0 || hitTtlMs < 0 || missTtlMs < 0 || maxRows < 0
                || expireAfterMs < 0) {
            throw new IllegalArgumentException(
                    "lookup.timeout must be > 0; retries, TTLs, cache.expire-after and "
                            + "cache.max-rows >= 0");
        }
        if (batchSize < 1 || maxConcurrentQueries < 1) {
            throw new IllegalArgumentException(
                    "lookup.batch-size and lookup.max-concurrent-queries must be >= 1");
        }
    }
}
