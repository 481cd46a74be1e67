package io.classpulse.udf;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

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
 * The asynchronous lookup of a {@code classpulse-warehouse} table: one HTTP query per key (rows
 * of the relation whose key columns equal the key, the greatest {@code latest-by} only), answers
 * cached per key (hits and misses with their own time-to-live, least recently used evicted), and
 * concurrent lookups of one key share one query. A query that does not answer within
 * {@code lookup.timeout} is retried {@code lookup.max-retries} times; then the lookup returns one
 * row holding the key and status {@code timeout} ({@code error} for a failed query), never
 * failing or holding the row that asked (LIVE_CLASSROOM_CONTRACT.md C). Failures are not cached.
 */
public final class WarehouseLookupFunction extends AsyncLookupFunction {

    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    public static final String OK = "ok";
    public static final String TIMEOUT = "timeout";
    public static final String ERROR = "error";

    private final WarehouseLookupOptions options;
    private final List<String> names;
    private final List<LogicalType> types;
    private final int[] keyFields;
    private final int statusField;
    private final String queryPrefix;

    private transient HttpClient client;
    private transient LookupCache cache;
    private transient ConcurrentHashMap<List<Object>, CompletableFuture<Collection<RowData>>> pending;
    private transient Counter hits;
    private transient Counter misses;
    private transient Counter queries;
    private transient Counter timeouts;

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
        this.queryPrefix = "SELECT " + String.join(", ", selected) + " FROM " + options.relation + " WHERE ";
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        super.open(context);
        client = HttpClient.newBuilder()
                .connectTimeout(Duration.ofMillis(options.timeoutMs))
                .build();
        cache = new LookupCache(options.maxRows, options.hitTtlMs, options.missTtlMs);
        pending = new ConcurrentHashMap<>();
        MetricGroup group = context.getMetricGroup()
                .addGroup("classpulse_lookup", options.relation.replace('.', '_'));
        hits = group.counter("cache_hits");
        misses = group.counter("cache_misses");
        queries = group.counter("queries");
        timeouts = group.counter("failed_lookups");
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
        long now = System.currentTimeMillis();
        Collection<RowData> cached = cache.get(key, now);
        if (cached != null) {
            hits.inc();
            return CompletableFuture.completedFuture(cached);
        }
        misses.inc();
        CompletableFuture<Collection<RowData>> shared = new CompletableFuture<>();
        CompletableFuture<Collection<RowData>> running = pending.putIfAbsent(key, shared);
        if (running != null) {
            return running;
        }
        attempt(key, 0).whenComplete((rows, failure) -> {
            Collection<RowData> result;
            if (failure == null) {
                cache.put(key, rows, System.currentTimeMillis());
                result = rows;
            } else {
                timeouts.inc();
                result = Collections.singletonList(failedRow(key, isTimeout(failure) ? TIMEOUT : ERROR));
            }
            pending.remove(key);
            shared.complete(result);
        });
        return shared;
    }

    private CompletableFuture<Collection<RowData>> attempt(List<Object> key, int retry) {
        queries.inc();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(options.url + "/?default_format=JSONEachRow"))
                .timeout(Duration.ofMillis(options.timeoutMs))
                .header("X-ClickHouse-User", options.username)
                .POST(HttpRequest.BodyPublishers.ofString(query(key), StandardCharsets.UTF_8));
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
                return attempt(key, retry + 1);
            }
            CompletableFuture<Collection<RowData>> failed = new CompletableFuture<>();
            failed.completeExceptionally(failure);
            return failed;
        }).thenCompose(future -> future);
    }

    /** The query of one key: key columns equal, the greatest latest-by value only. */
    String query(List<Object> key) {
        StringBuilder sql = new StringBuilder(queryPrefix);
        for (int i = 0; i < keyFields.length; i++) {
            if (i > 0) {
                sql.append(" AND ");
            }
            sql.append('`').append(names.get(keyFields[i])).append("` = ").append(key.get(i));
        }
        if (options.latestBy != null) {
            sql.append(" ORDER BY `").append(options.latestBy).append("` DESC LIMIT 1");
        }
        return sql.append(" FORMAT JSONEachRow").toString();
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

    /** A key value as its SQL literal text (numbers only: keys are ids). */
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
