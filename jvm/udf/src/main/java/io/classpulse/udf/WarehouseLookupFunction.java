package io.classpulse.udf;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.functions.AsyncLookupFunction;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;

/**
 * The asynchronous lookup of a {@code classpulse-warehouse} table. Answers are cached per key
 * with refresh after write ({@link LookupCache}: a stale answer is served while one reload
 * replaces it). Keys to load wait in one queue; at most {@code lookup.max-concurrent-queries}
 * HTTP queries run at a time, each for up to {@code lookup.batch-size} keys (rows of the relation
 * whose key columns equal one of the keys, the greatest {@code latest-by} per key only), so a
 * window's burst of lookups is a few queries, not one per key: the warehouse answered a burst of
 * several hundred single-key queries too slowly and most of them timed out. A query that does not
 * answer within {@code lookup.timeout} is retried {@code lookup.max-retries} times; then each of
 * its keys returns one row holding the key and status {@code timeout} ({@code error} for a failed
 * query), never failing or holding the row that asked (LIVE_CLASSROOM_CONTRACT.md C). Failed
 * first loads are not cached; a failed reload keeps the old answer.
 */
public final class WarehouseLookupFunction extends AsyncLookupFunction {

    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    public static final String OK = "ok";
    public static final String TIMEOUT = "timeout";
    public static final String ERROR = "error";
    /** The query parameter that carries the keys (HTTP {@code param_keys}). */
    static final String KEYS_PARAMETER = "keys";

    private final WarehouseLookupOptions options;
    private final List<String> names;
    private final List<LogicalType> types;
    private final int[] keyFields;
    private final int statusField;
    private final String query;

    /**
     * The caches of one job (its user-code class loader), shared by every lookup of the same
     * relation and key columns in this JVM, across operators and subtasks: the triage's lookups
     * then find the rooms the labels' lookups loaded (each room is pressed about once, so a cache
     * of the triage's own missed about every other lookup). A shared cache loads through the
     * function that created it; hits, misses and refreshes count in each caller's metrics.
     */
    private static final Map<ClassLoader, Map<String, Shared>> SHARED = new WeakHashMap<>();

    private static final class Shared {
        final LookupCache cache;
        int users;  // guarded by SHARED

        Shared(LookupCache cache) {
            this.cache = cache;
        }
    }

    private transient HttpClient client;
    private transient LookupCache cache;
    private transient LookupCache.Counters counters;
    private transient ClassLoader sharing;  // the key of this function's cache in SHARED
    private transient Counter queries;
    private transient Counter failedLookups;
    // keys waiting for a query, with the futures their loads wait on; guarded by itself
    private transient LinkedHashMap<List<Object>, CompletableFuture<Collection<RowData>>> waiting;
    private transient int queriesRunning;  // guarded by waiting

    public WarehouseLookupFunction(DataType rowType, int[] keyFields, WarehouseLookupOptions options) {
        RowType row = (RowType) rowType.getLogicalType();
        this.options = options;
        this.names = new ArrayList<>(row.getFieldNames());
        this.types = new ArrayList<>(row.getChildren());
        this.keyFields = keyFields.clone();
        this.statusField = options.statusColumn == null ? -1 : names.indexOf(options.statusColumn);
        if (options.statusColumn != null && statusField < 0) {
            throw new IllegalArgumentException("status-column " + options.statusColumn + " is not a column");
        }
        for (int key : keyFields) {
            if (key == statusField) {
                throw new IllegalArgumentException("the status column cannot be a lookup key");
            }
        }
        List<String> selected = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            if (i != statusField) {
                selected.add("`" + names.get(i) + "`");
            }
        }
        StringBuilder columns = new StringBuilder();
        List<String> keyTypes = new ArrayList<>();
        for (int i = 0; i < this.keyFields.length; i++) {
            columns.append(i > 0 ? ", " : "").append('`').append(names.get(this.keyFields[i])).append('`');
            keyTypes.add(parameterType(types.get(this.keyFields[i])));
        }
        String keysType = keyTypes.size() > 1
                ? "Array(Tuple(" + String.join(", ", keyTypes) + "))"
                : "Array(" + keyTypes.get(0) + ")";
        StringBuilder sql = new StringBuilder("SELECT ").append(String.join(", ", selected))
                .append(" FROM ").append(options.relation).append(" WHERE ")
                .append(keyTypes.size() > 1 ? "(" + columns + ")" : columns)
                .append(" IN {").append(KEYS_PARAMETER).append(':').append(keysType).append('}');
        if (options.latestBy != null) {
            sql.append(" ORDER BY `").append(options.latestBy).append("` DESC LIMIT 1 BY ").append(columns);
        }
        this.query = sql.append(" FORMAT JSONEachRow").toString();
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        super.open(context);
        client = HttpClient.newBuilder()
                .connectTimeout(Duration.ofMillis(options.timeoutMs))
                .build();
        MetricGroup group = context.getMetricGroup()
                .addGroup("classpulse_lookup", options.relation.replace('.', '_'));
        LookupCache.Counters counters = new LookupCache.Counters(
                group.counter("cache_hits"), group.counter("cache_misses"),
                group.counter("refreshes"), group.counter("errors"));
        queries = group.counter("queries");
        failedLookups = group.counter("failed_lookups");
        waiting = new LinkedHashMap<>();
        queriesRunning = 0;
        this.counters = counters;
        sharing = context.getUserCodeClassLoader();
        synchronized (SHARED) {
            Shared shared = SHARED.computeIfAbsent(sharing, loader -> new HashMap<>())
                    .computeIfAbsent(sharedKey(), k -> new Shared(new LookupCache(options.maxRows,
                            options.hitTtlMs, options.missTtlMs, options.expireAfterMs, this::load,
                            System::currentTimeMillis, counters)));
            shared.users++;
            cache = shared.cache;
        }
    }

    @Override
    public void close() throws Exception {
        if (sharing != null) {
            synchronized (SHARED) {
                Map<String, Shared> ofJob = SHARED.get(sharing);
                Shared shared = ofJob == null ? null : ofJob.get(sharedKey());
                if (shared != null && --shared.users == 0) {
                    ofJob.remove(sharedKey());
                }
            }
            sharing = null;
        }
        super.close();
    }

    /** What makes two lookups the same: the server, the user, the query and the cache's rules. */
    private String sharedKey() {
        return String.join("\n", options.url, options.username, query,
                String.valueOf(options.hitTtlMs), String.valueOf(options.missTtlMs),
                String.valueOf(options.expireAfterMs), String.valueOf(options.maxRows));
    }

    @Override
    public CompletableFuture<Collection<RowData>> asyncLookup(RowData keyRow) {
        List<Object> key = new ArrayList<>(keyFields.length);
        for (int i = 0; i < keyFields.length; i++) {
            Object value = keyValue(keyRow, i, types.get(keyFields[i]));
            if (value == null) {
                return CompletableFuture.completedFuture(Collections.emptyList());
            }
            key.add(value);
        }
        return cache.get(key, counters).handle((rows, failure) -> {
            if (failure == null) {
                return rows;
            }
            failedLookups.inc();
            return Collections.singletonList(failedRow(key, isTimeout(failure) ? TIMEOUT : ERROR));
        });
    }

    /** The loader of the cache: the key joins the queue of the next query. */
    private CompletableFuture<Collection<RowData>> load(List<Object> key) {
        CompletableFuture<Collection<RowData>> answer;
        synchronized (waiting) {
            answer = waiting.computeIfAbsent(key, k -> new CompletableFuture<>());
        }
        dispatch();
        return answer;
    }

    /** Starts queries for the waiting keys while fewer than the allowed number run. */
    private void dispatch() {
        while (true) {
            Map<List<Object>, CompletableFuture<Collection<RowData>>> batch = new HashMap<>();
            synchronized (waiting) {
                if (waiting.isEmpty() || queriesRunning >= options.maxConcurrentQueries) {
                    return;
                }
                var keys = waiting.entrySet().iterator();
                while (keys.hasNext() && batch.size() < options.batchSize) {
                    var next = keys.next();
                    batch.put(next.getKey(), next.getValue());
                    keys.remove();
                }
                queriesRunning++;
            }
            List<List<Object>> keys = new ArrayList<>(batch.keySet());
            CompletableFuture<Collection<RowData>> answer;
            try {
                answer = attempt(keys, 0);
            } catch (RuntimeException e) {  // a request that cannot be built: its keys fail
                answer = CompletableFuture.failedFuture(e);
            }
            answer.whenComplete((rows, failure) -> {
                synchronized (waiting) {
                    queriesRunning--;
                }
                if (failure != null) {
                    batch.values().forEach(future -> future.completeExceptionally(failure));
                } else {
                    Map<List<Object>, List<RowData>> byKey = new HashMap<>();
                    for (RowData row : rows) {
                        byKey.computeIfAbsent(keyOf(row), k -> new ArrayList<>()).add(row);
                    }
                    batch.forEach((key, future) ->
                            future.complete(byKey.getOrDefault(key, Collections.emptyList())));
                }
                dispatch();
            });
        }
    }

    private List<Object> keyOf(RowData row) {
        List<Object> key = new ArrayList<>(keyFields.length);
        for (int keyField : keyFields) {
            key.add(keyValue(row, keyField, types.get(keyField)));
        }
        return key;
    }

    private CompletableFuture<Collection<RowData>> attempt(List<List<Object>> keys, int retry) {
        queries.inc();
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(keys))
                .timeout(Duration.ofMillis(options.timeoutMs))
                .header("X-ClickHouse-User", options.username)
                .POST(HttpRequest.BodyPublishers.ofString(query, StandardCharsets.UTF_8));
        if (!options.password.isEmpty()) {
            request.header("X-ClickHouse-Key", options.password);
        }
        CompletableFuture<Collection<RowData>> answer = client
                .sendAsync(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
                .thenApply(this::parse);
        return answer.handle((rows, failure) -> {
            if (failure == null) {
                return CompletableFuture.completedFuture(rows);
            }
            if (retry < options.maxRetries) {
                return attempt(keys, retry + 1);
            }
            CompletableFuture<Collection<RowData>> failed = new CompletableFuture<>();
            failed.completeExceptionally(failure);
            return failed;
        }).thenCompose(future -> future);
    }

    /**
     * The query, the same text for every batch: key columns equal to one of the keys (a tuple for
     * several key columns), the greatest latest-by value per key only. The keys are never in it:
     * they travel as the server-side query parameter {@code keys} ({@link #uri}).
     */
    String query() {
        return query;
    }

    /** The request's address: the output format and the keys, bound as {@code param_keys}. */
    URI uri(List<List<Object>> keys) {
        return URI.create(options.url + "/?default_format=JSONEachRow&param_" + KEYS_PARAMETER + "="
                + URLEncoder.encode(keysValue(keys), StandardCharsets.UTF_8));
    }

    /**
     * The keys as the value of an {@code Array(...)} query parameter in ClickHouse's text format:
     * {@code [1,2]}, or {@code [(1,10),(2,20)]} for several key columns. Key values are typed
     * numbers ({@link #keyValue}), so their text is a number's.
     */
    static String keysValue(List<List<Object>> keys) {
        StringBuilder value = new StringBuilder("[");
        for (int k = 0; k < keys.size(); k++) {
            List<Object> key = keys.get(k);
            value.append(k > 0 ? "," : "");
            if (key.size() > 1) {
                value.append('(');
            }
            for (int i = 0; i < key.size(); i++) {
                value.append(i > 0 ? "," : "").append(key.get(i));
            }
            if (key.size() > 1) {
                value.append(')');
            }
        }
        return value.append(']').toString();
    }

    /**
     * The ClickHouse type a key is bound as: ids of up to 20 digits are DECIMAL(20, 0) in Flink
     * (an unsigned 64-bit id does not fit BIGINT), bound as Int128, which compares with any
     * integer column; other decimals keep their precision and scale.
     */
    static String parameterType(LogicalType type) {
        switch (type.getTypeRoot()) {
            case BIGINT:
                return "Int64";
            case INTEGER:
                return "Int32";
            case DECIMAL:
                DecimalType decimal = (DecimalType) type;
                return decimal.getScale() == 0 ? "Int128"
                        : "Decimal(" + decimal.getPrecision() + ", " + decimal.getScale() + ")";
            default:
                throw new IllegalArgumentException("lookup keys must be BIGINT, INT or DECIMAL, not " + type);
        }
    }

    private Collection<RowData> parse(HttpResponse<String> response) {
        if (response.statusCode() != 200) {
            throw new CompletionException(new IOException(
                    "warehouse answered " + response.statusCode() + ": " + response.body()));
        }
        List<RowData> rows = new ArrayList<>();
        for (String line : response.body().split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode document;
            try {
                document = JSON.readTree(line);
            } catch (IOException e) {
                throw new CompletionException(e);
            }
            GenericRowData row = new GenericRowData(names.size());
            for (int i = 0; i < names.size(); i++) {
                row.setField(i, i == statusField ? StringData.fromString(OK)
                        : convert(document.get(names.get(i)), types.get(i)));
            }
            rows.add(row);
        }
        return rows;
    }

    private RowData failedRow(List<Object> key, String status) {
        GenericRowData row = new GenericRowData(names.size());
        for (int i = 0; i < keyFields.length; i++) {
            row.setField(keyFields[i], convert(JSON.getNodeFactory().textNode(key.get(i).toString()),
                    types.get(keyFields[i])));
        }
        if (statusField >= 0) {
            row.setField(statusField, StringData.fromString(status));
        }
        return row;
    }

    private static boolean isTimeout(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof HttpTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /** A key value: a number, or a decimal's plain text (keys are ids); the cache's key and the parameter's text. */
    static Object keyValue(RowData row, int position, LogicalType type) {
        if (row.isNullAt(position)) {
            return null;
        }
        switch (type.getTypeRoot()) {
            case BIGINT:
                return row.getLong(position);
            case INTEGER:
                return row.getInt(position);
            case DECIMAL:
                DecimalType decimal = (DecimalType) type;
                return row.getDecimal(position, decimal.getPrecision(), decimal.getScale())
                        .toBigDecimal().toPlainString();
            default:
                throw new IllegalArgumentException("lookup keys must be BIGINT, INT or DECIMAL, not " + type);
        }
    }

    /** A JSON value (ClickHouse may quote 64-bit integers) as Flink's internal value of type. */
    static Object convert(JsonNode value, LogicalType type) {
        if (value == null || value.isNull()) {
            return null;
        }
        String text = value.asText();
        switch (type.getTypeRoot()) {
            case BIGINT:
                return new BigDecimal(text).longValueExact();
            case INTEGER:
                return new BigDecimal(text).intValueExact();
            case SMALLINT:
                return new BigDecimal(text).shortValueExact();
            case TINYINT:
                return new BigDecimal(text).byteValueExact();
            case BOOLEAN:
                return value.isBoolean() ? value.asBoolean() : !"0".equals(text) && !"false".equals(text);
            case DECIMAL:
                DecimalType decimal = (DecimalType) type;
                return DecimalData.fromBigDecimal(new BigDecimal(text), decimal.getPrecision(), decimal.getScale());
            case DATE:
                return (int) LocalDate.parse(text).toEpochDay();
            case CHAR:
            case VARCHAR:
                return StringData.fromString(text);
            default:
                throw new IllegalArgumentException("unsupported column type " + type);
        }
    }
}
