package io.classpulse.udf.format;

import java.io.IOException;
import java.io.Serializable;
import java.math.BigDecimal;
import java.time.LocalDate;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonGenerator;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.binary.BinaryStringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.LogicalType;

/**
 * How each column type is written: the same JSON text as Flink's json format
 * ({@code RowDataToJsonConverters} then Jackson), but straight into a {@link JsonGenerator}
 * instead of through a tree of nodes, and dates and timestamps through {@link TimeText}.
 */
final class JsonValueWriters {

    /** Writes one non-null value of a column; {@code scratch} holds a date or timestamp text. */
    @FunctionalInterface
    interface ValueWriter extends Serializable {
        void write(JsonGenerator out, Object value, byte[] scratch) throws IOException;
    }

    private JsonValueWriters() {}

    /**
     * The writer of a column of {@code type}; a type this format does not write fails here, at
     * planning, naming the column.
     */
    static ValueWriter forType(String column, LogicalType type, boolean plainDecimals) {
        switch (type.getTypeRoot()) {
            case BOOLEAN:
                return (out, value, scratch) -> out.writeBoolean((boolean) value);
            case TINYINT:
                return (out, value, scratch) -> out.writeNumber((byte) value);
            case SMALLINT:
                return (out, value, scratch) -> out.writeNumber((short) value);
            case INTEGER:
                return (out, value, scratch) -> out.writeNumber((int) value);
            case BIGINT:
                return (out, value, scratch) -> out.writeNumber((long) value);
            case FLOAT:
                return (out, value, scratch) -> out.writeNumber((float) value);
            case DOUBLE:
                return (out, value, scratch) -> out.writeNumber((double) value);
            case CHAR:
            case VARCHAR:
                return JsonValueWriters::writeString;
            case DATE:
                return JsonValueWriters::writeDate;
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                return (out, value, scratch) -> writeTimestamp(out, value, scratch, false);
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                return (out, value, scratch) -> writeTimestamp(out, value, scratch, true);
            case DECIMAL:
                return plainDecimals
                        ? (out, value, scratch) -> out.writeNumber(decimal(value))
                        : (out, value, scratch) -> out.writeNumber(decimal(value).stripTrailingZeros());
            case ARRAY:
                return arrayWriter(column, (ArrayType) type, plainDecimals);
            default:
                throw unsupported(column, type);
        }
    }

    static ValidationException unsupported(String column, LogicalType type) {
        return new ValidationException(
                String.format("Format '%s' does not support column '%s' of type %s.",
                        ClassPulseJsonFormatFactory.IDENTIFIER, column, type.asSummaryString()));
    }

    private static BigDecimal decimal(Object value) {
        return ((DecimalData) value).toBigDecimal();
    }

    /**
     * A string held as UTF-8 bytes is copied as it is (Jackson escapes quotes and control
     * characters), without decoding it to a Java string and encoding it again. Exceptions,
     * written as json writes them (decoded, then {@code writeString}): a string held as a Java
     * string, and bytes that are not plain UTF-8 of the BMP, since Jackson's writeString escapes
     * a character beyond the BMP as two surrogates and json decodes malformed bytes to U+FFFD.
     */
    private static void writeString(JsonGenerator out, Object value, byte[] scratch)
            throws IOException {
        if (value instanceof BinaryStringData && ((BinaryStringData) value).getJavaObject() == null) {
            byte[] utf8 = ((BinaryStringData) value).toBytes();
            if (isBmpUtf8(utf8)) {
                out.writeUTF8String(utf8, 0, utf8.length);
                return;
            }
        }
        out.writeString(value.toString());
    }

    /** Well-formed UTF-8 of 1 to 3 byte sequences, none of them an encoded surrogate. */
    static boolean isBmpUtf8(byte[] utf8) {
        int i = 0;
        while (i < utf8.length) {
            int lead = utf8[i] & 0xff;
            if (lead < 0x80) {
                i++;
            } else if (lead >= 0xc2 && lead <= 0xdf && continues(utf8, i + 1)) {
                i += 2;
            } else if (lead >= 0xe0 && lead <= 0xef && continues(utf8, i + 1)
                    && continues(utf8, i + 2)) {
                int second = utf8[i + 1] & 0xff;
                if ((lead == 0xe0 && second < 0xa0) || (lead == 0xed && second >= 0xa0)) {
                    return false;  // overlong, or a surrogate
                }
                i += 3;
            } else {
                return false;
            }
        }
        return true;
    }

    private static boolean continues(byte[] utf8, int at) {
        return at < utf8.length && (utf8[at] & 0xc0) == 0x80;
    }

    private static void writeDate(JsonGenerator out, Object value, byte[] scratch)
            throws IOException {
        int epochDay = (int) value;
        int end = TimeText.writeDate(epochDay, scratch, 0);
        if (end < 0) {
            out.writeString(TimeText.DATE.format(LocalDate.ofEpochDay(epochDay)));
        } else {
            out.writeRawUTF8String(scratch, 0, end);
        }
    }

    private static void writeTimestamp(
            JsonGenerator out, Object value, byte[] scratch, boolean zoned) throws IOException {
        TimestampData timestamp = (TimestampData) value;
        int end = TimeText.writeTimestamp(
                timestamp.getMillisecond(), timestamp.getNanoOfMillisecond(), zoned, scratch);
        if (end < 0) {
            out.writeString(TimeText.formatTimestamp(timestamp, zoned));
        } else {
            out.writeRawUTF8String(scratch, 0, end);
        }
    }

    private static ValueWriter arrayWriter(String column, ArrayType type, boolean plainDecimals) {
        LogicalType elementType = type.getElementType();
        ValueWriter element = forType(column, elementType, plainDecimals);
        ArrayData.ElementGetter getter = ArrayData.createElementGetter(elementType);
        return (out, value, scratch) -> {
            ArrayData array = (ArrayData) value;
            out.writeStartArray();
            for (int i = 0; i < array.size(); i++) {
                Object item = getter.getElementOrNull(array, i);
                if (item == null) {
                    out.writeNull();
                } else {
                    element.write(out, item, scratch);
                }
            }
            out.writeEndArray();
        };
    }
}
