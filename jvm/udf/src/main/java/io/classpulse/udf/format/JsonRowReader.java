package io.classpulse.udf.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.functions.util.ListCollector;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParseException;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.json.JsonReadFeature;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.DeserializationFeature;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.utils.LogicalTypeChecks;
import org.apache.flink.util.Collector;
import org.apache.flink.util.jackson.JacksonMapperFactory;

/**
 * Reads a JSON object into a {@link GenericRowData} with a streaming parser: the rows Flink's
 * {@code JsonParserRowDataDeserializationSchema} produces with the json format's defaults (a
 * missing field is NULL, an unknown field is skipped, a top-level array is one row per
 * element, an empty message no row, anything malformed fails the job with the message text).
 */
public final class JsonRowReader implements DeserializationSchema<RowData> {

    private static final long serialVersionUID = 1L;

    private final String[] names;
    private final JsonValueReaders.ValueReader[] readers;
    private final TypeInformation<RowData> producedType;
    private final boolean hasDecimals;

    private transient JsonFactory factory;
    private transient Map<String, Integer> positions;

    public JsonRowReader(RowType rowType, TypeInformation<RowData> producedType) {
        List<RowType.RowField> fields = rowType.getFields();
        this.producedType = producedType;
        this.hasDecimals = LogicalTypeChecks.hasNested(rowType, t -> t instanceof DecimalType);
        names = new String[fields.size()];
        readers = new JsonValueReaders.ValueReader[fields.size()];
        for (int i = 0; i < names.length; i++) {
            names[i] = fields.get(i).getName();
            readers[i] = JsonValueReaders.forType(names[i], fields.get(i).getType());
        }
    }

    @Override
    public void open(InitializationContext context) {
        // the parser Flink's json format reads with, configured the same way
        ObjectMapper mapper = JacksonMapperFactory.createObjectMapper()
                .configure(JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS.mappedFeature(), true);
        if (hasDecimals) {
            mapper.enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
        }
        factory = mapper.getFactory();
        positions = new HashMap<>();
        for (int i = 0; i < names.length; i++) {
            positions.put(names[i], i);
        }
    }

    /** One message of one object (the Kafka source calls the collecting variant below). */
    @Override
    public RowData deserialize(byte[] message) throws IOException {
        List<RowData> rows = new ArrayList<>(1);
        deserialize(message, new ListCollector<>(rows));
        if (rows.size() > 1) {
            throw new IOException("A message of several rows needs deserialize(byte[], Collector).");
        }
        return rows.isEmpty() ? null : rows.get(0);
    }

    @Override
    public void deserialize(byte[] message, Collector<RowData> out) throws IOException {
        if (message == null || message.length == 0) {
            return;
        }
        try (JsonParser in = factory.createParser(message)) {
            JsonToken first = in.nextToken();
            if (first == JsonToken.START_ARRAY) {
                while (in.nextToken() != JsonToken.END_ARRAY) {
                    out.collect(readRow(in));
                }
            } else if (first == JsonToken.START_OBJECT) {
                out.collect(readRow(in));
            } else {
                throw new JsonParseException(in, "No content to map due to end-of-input");
            }
        } catch (Throwable t) {
            throw new IOException(String.format("Failed to deserialize JSON '%s'.",
                    new String(message, StandardCharsets.UTF_8)), t);
        }
    }

    /** One object into a row; its fields in any order, each known one read once. */
    private GenericRowData readRow(JsonParser in) throws IOException {
        if (in.currentToken() != JsonToken.START_OBJECT) {
            throw new IllegalStateException("Illegal JSON object data...");
        }
        GenericRowData row = new GenericRowData(names.length);
        int found = 0;
        in.nextToken();
        while (in.currentToken() != JsonToken.END_OBJECT) {
            if (found >= names.length) {
                skipToNextField(in);
                continue;
            }
            String name = in.currentName();
            in.nextToken();
            Integer position = positions.get(name);
            if (position == null) {
                skipToNextField(in);
                continue;
            }
            try {
                row.setField(position, JsonValueReaders.readNullable(readers[position], in));
            } catch (Throwable t) {
                throw new IOException(String.format("Fail to deserialize at field: %s.", name), t);
            }
            in.nextToken();
            found++;
        }
        return row;
    }

    /** Past the current value (a whole object or array) to the next field name or the end. */
    private static void skipToNextField(JsonParser in) throws IOException {
        in.skipChildren();
        in.nextToken();
    }

    @Override
    public boolean isEndOfStream(RowData nextElement) {
        return false;
    }

    @Override
    public TypeInformation<RowData> getProducedType() {
        return producedType;
    }
}
