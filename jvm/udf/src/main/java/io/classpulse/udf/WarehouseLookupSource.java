package io.classpulse.udf;

import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.connector.source.LookupTableSource;
import org.apache.flink.table.connector.source.lookup.AsyncLookupFunctionProvider;
import org.apache.flink.table.types.DataType;

/** The lookup-only source of a {@code classpulse-warehouse} table: an asynchronous lookup. */
public final class WarehouseLookupSource implements LookupTableSource {

    private final DataType rowType;
    private final WarehouseLookupOptions options;

    public WarehouseLookupSource(DataType rowType, WarehouseLookupOptions options) {
        this.rowType = rowType;
        this.options = options;
    }

    @Override
    public LookupRuntimeProvider getLookupRuntimeProvider(LookupContext context) {
        int[][] keys = context.getKeys();
        int[] keyFields = new int[keys.length];
        for (int i = 0; i < keys.length; i++) {
            if (keys[i].length != 1) {
                throw new IllegalArgumentException("nested lookup keys are not supported");
            }
            keyFields[i] = keys[i][0];
        }
        return AsyncLookupFunctionProvider.of(
                new WarehouseLookupFunction(rowType, keyFields, options));
    }

    @Override
    public DynamicTableSource copy() {
        return new WarehouseLookupSource(rowType, options);
    }

    @Override
    public String asSummaryString() {
        return "classpulse-warehouse(" + options.relation + ")";
    }
}
