package io.classpulse.udf.format;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;

import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonEncoding;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonGenerator;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.io.SerializedString;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.util.jackson.JacksonMapperFactory;

/**
 * Writes a row as one JSON object, field by field into a reused {@link JsonGenerator}: the
 * bytes Flink's {@code JsonRowDataSerializationSchema} writes (default options: SQL timestamp
 * text, null fields written as null) without building a node tree per row.
 */
public final class JsonRowWriter implements SerializationSchema<RowData> {

    private static final long serialVersionUID = 1L;

    private final String[] names;
    private final RowData.FieldGetter[] getters;
    private final JsonValueWriters.ValueWriter[] writers;
    private final boolean plainDecimals;

    private transient SerializedString[] encodedNames;
    private transient JsonFactory factory;
    private transient Output buffer;
    private transient JsonGenerator generator;
    private transient byte[] scratch;

    public JsonRowWriter(RowType rowType, boolean plainDecimals) {
        List<RowType.RowField> fields = rowType.getFields();
        this.plainDecimals = plainDecimals;
        names = new String[fields.size()];
        getters = new RowData.FieldGetter[fields.size()];
        writers = new JsonValueWriters.ValueWriter[fields.size()];
        for (int i = 0; i < names.length; i++) {
            RowType.RowField field = fields.get(i);
            names[i] = field.getName();
            getters[i] = RowData.createFieldGetter(field.getType(), i);
            writers[i] = JsonValueWriters.forType(names[i], field.getType(), plainDecimals);
        }
    }

    @Override
    public void open(InitializationContext context) {
        // the factory Flink's json format writes with, configured the same way
        factory = JacksonMapperFactory.createObjectMapper()
                .configure(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN, plainDecimals)
                .getFactory();
        encodedNames = new SerializedString[names.length];
        for (int i = 0; i < names.length; i++) {
            encodedNames[i] = new SerializedString(names[i]);
        }
        buffer = new Output();
        scratch = new byte[TimeText.MAX_LENGTH];
    }

    @Override
    public byte[] serialize(RowData row) {
        try {
            JsonGenerator out = generator();
            out.writeStartObject();
            for (int i = 0; i < names.length; i++) {
                out.writeFieldName(encodedNames[i]);
                Object value = getters[i].getFieldOrNull(row);
                if (value == null) {
                    out.writeNull();
                } else {
                    writers[i].write(out, value, scratch);
                }
            }
            out.writeEndObject();
            out.flush();
            return buffer.take();
        } catch (Throwable t) {
            // a generator left inside an object cannot write the next row
            generator = null;
            buffer.reset();
            throw new RuntimeException(String.format("Could not serialize row '%s'.", row), t);
        }
    }

    private JsonGenerator generator() throws IOException {
        if (generator == null) {
            generator = factory.createGenerator(buffer, JsonEncoding.UTF8);
            // rows are separate messages: no space between one row's object and the next
            generator.setRootValueSeparator(null);
        }
        return generator;
    }

    /** The generator's target: its bytes are taken (and it is emptied) after each row. */
    private static final class Output extends ByteArrayOutputStream {
        byte[] take() {
            byte[] bytes = toByteArray();
            reset();
            return bytes;
        }
    }
}
