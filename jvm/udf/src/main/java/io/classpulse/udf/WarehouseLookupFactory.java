package io.classpulse.udf;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.factories.DynamicTableSourceFactory;
import org.apache.flink.table.factories.FactoryUtil;

/**
 * {@code 'connector' = 'classpulse-warehouse'}: a lookup-only table over one relation of the
 * warehouse (ClickHouse HTTP interface), read with an asynchronous lookup and a cache
 * (LIVE_CLASSROOM_CONTRACT.md C). The table's physical columns are the relation's columns of the
 * same names, except the optional status column, which the lookup fills itself.
 *
 * <pre>
 *   CREATE TABLE dim_live_room (room_id DECIMAL(20, 0), lesson_id BIGINT, ..., lookup_status STRING)
 *   WITH ('connector' = 'classpulse-warehouse', 'url' = 'http://127.0.0.1:8123',
 *         'relation' = 'dim.live_room_current', 'latest-by' = 'lesson_id',
 *         'status-column' = 'lookup_status');
 *   ... LEFT JOIN dim_live_room FOR SYSTEM_TIME AS OF t.lookup_time AS d ON d.room_id = t.room_id
 * </pre>
 */
public final class WarehouseLookupFactory implements DynamicTableSourceFactory {

    public static final String IDENTIFIER = "classpulse-warehouse";

    public static final ConfigOption<String> URL =
            ConfigOptions.key("url").stringType().noDefaultValue()
                    .withDescription("ClickHouse HTTP endpoint, e.g. http://127.0.0.1:8123.");
    public static final ConfigOption<String> USERNAME =
            ConfigOptions.key("username").stringType().defaultValue("default");
    public static final ConfigOption<String> PASSWORD =
            ConfigOptions.key("password").stringType().defaultValue("");
    public static final ConfigOption<String> RELATION =
            ConfigOptions.key("relation").stringType().noDefaultValue()
                    .withDescription("database.table or view the lookup reads.");
    public static final ConfigOption<String> LATEST_BY =
            ConfigOptions.key("latest-by").stringType().noDefaultValue()
                    .withDescription("Several rows for one key: the greatest value of this column wins.");
    public static final ConfigOption<String> STATUS_COLUMN =
            ConfigOptions.key("status-column").stringType().noDefaultValue()
                    .withDescription("A STRING column the lookup fills: ok, or timeout/error when "
                            + "the warehouse did not answer in time (then every other non-key "
                            + "column is NULL). Without it a failed lookup behaves as a miss.");
    public static final ConfigOption<Duration> TIMEOUT =
            ConfigOptions.key("lookup.timeout").durationType().defaultValue(Duration.ofMillis(500));
    public static final ConfigOption<Integer> MAX_RETRIES =
            ConfigOptions.key("lookup.max-retries").intType().defaultValue(1);
    public static final ConfigOption<Duration> HIT_TTL =
            ConfigOptions.key("cache.hit-ttl").durationType().defaultValue(Duration.ofSeconds(60))
                    .withDescription("How long a found answer is fresh (contract C: 60 s, so a "
                            + "re-preheat is seen within about a minute). After it the answer is "
                            + "still served while one asynchronous reload replaces it.");
    public static final ConfigOption<Duration> MISS_TTL =
            ConfigOptions.key("cache.miss-ttl").durationType().defaultValue(Duration.ofSeconds(10))
                    .withDescription("How long a missing answer (no row) is fresh, shorter than "
                            + "hits so a room preheated late is found soon (contract C: 10 s); "
                            + "also the pause before a failed reload is tried again.");
    public static final ConfigOption<Duration> EXPIRE_AFTER =
            ConfigOptions.key("cache.expire-after").durationType().defaultValue(Duration.ofMinutes(10))
                    .withDescription("An answer not refreshed for this long is dropped and the next "
                            + "lookup waits for the warehouse. 10 min: longer than any gap between "
                            + "lookups of a room in class (one per 30 s window), so refreshes keep "
                            + "active rooms cached and a warehouse outage of minutes does not turn "
                            + "rows into lookup_timeout; rooms whose class ended leave the cache. "
                            + "At most cache.hit-ttl / cache.miss-ttl: a plain TTL cache.");
    public static final ConfigOption<Integer> MAX_ROWS =
            ConfigOptions.key("cache.max-rows").intType().defaultValue(100_000)
                    .withDescription("Keys kept, least recently used evicted (contract C: 100k; "
                            + "20k lessons at peak with their rooms fit).");
    public static final ConfigOption<Integer> BATCH_SIZE =
            ConfigOptions.key("lookup.batch-size").intType().defaultValue(500)
                    .withDescription("Keys loaded by one query at most. A window's rows close "
                            + "together and ask for hundreds of rooms at once; 500 keys make one "
                            + "small query (an IN list) instead of 500 queries.");
    public static final ConfigOption<Integer> MAX_CONCURRENT_QUERIES =
            ConfigOptions.key("lookup.max-concurrent-queries").intType().defaultValue(2)
                    .withDescription("Queries one lookup subtask runs at a time; keys asked "
                            + "meanwhile wait for the next query. 2: a query in flight and one "
                            + "more, without flooding a small warehouse (the embedded server "
                            + "answers a few hundred queries/s in all).");

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return new HashSet<>(List.of(URL, RELATION));
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return new HashSet<>(List.of(USERNAME, PASSWORD, LATEST_BY, STATUS_COLUMN, TIMEOUT,
                MAX_RETRIES, HIT_TTL, MISS_TTL, MAX_ROWS, EXPIRE_AFTER, BATCH_SIZE,
                MAX_CONCURRENT_QUERIES));
    }

    @Override
    public DynamicTableSource createDynamicTableSource(Context context) {
        FactoryUtil.TableFactoryHelper helper = FactoryUtil.createTableFactoryHelper(this, context);
        // the runner sets read options (Kafka bounded mode, file monitoring) on every table a job
        // reads; a lookup-only table has nothing to scan and ignores them
        helper.validateExcept("scan.", "source.");
        ReadableConfig options = helper.getOptions();
        WarehouseLookupOptions lookup = new WarehouseLookupOptions(
                options.get(URL),
                options.get(USERNAME),
                options.get(PASSWORD),
                options.get(RELATION),
                options.getOptional(LATEST_BY).orElse(null),
                options.getOptional(STATUS_COLUMN).orElse(null),
                options.get(TIMEOUT).toMillis(),
                options.get(MAX_RETRIES),
                options.get(HIT_TTL).toMillis(),
                options.get(MISS_TTL).toMillis(),
                options.get(MAX_ROWS),
                options.get(EXPIRE_AFTER).toMillis(),
                options.get(BATCH_SIZE),
                options.get(MAX_CONCURRENT_QUERIES));
        lookup.validate();
        return new WarehouseLookupSource(
                context.getCatalogTable().getResolvedSchema().toPhysicalRowDataType(), lookup);
    }
}
