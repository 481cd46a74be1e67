package io.classpulse.udf.format;

import java.io.IOException;
import java.io.Serializable;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParseException;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.utils.LogicalTypeUtils;

/**
 * How each column type is read from the parser's current token: the values (and the errors)
 * of Flink's {@code JsonParserToRowDataConverters} with its default options, but dates and
 * timestamps through {@link TimeText} instead of a {@code DateTimeFormatter} per value.
 */
final class JsonValueReaders {

    /** Reads the non-null value at the parser's current token (and no further). */
    @FunctionalInterface
    interface ValueReader extends Serializable {
        Object read(JsonParser in) throws IOException;
    }

    private JsonValueReaders() {}

    /** The reader of a column of {@code type}; an unsupported type fails at planning. */
    static ValueReader forType(String column, LogicalType type) {
        switch (type.getTypeRoot()) {
            case BOOLEAN:
                return JsonValueReaders::readBoolean;
            case TINYINT:
                return JsonValueReaders::readByte;
            case SMALLINT:
                return in -> isInteger(in) ? in.getShortValue() : Short.parseShort(trimmed(in));
            case INTEGER:
                return in -> isNumber(in) ? in.getIntValue() : Integer.parseInt(trimmed(in));
            case BIGINT:
                return in -> isNumber(in) ? in.getLongValue() : Long.parseLong(trimmed(in));
            case FLOAT:
                return in -> isFloat(in) ? in.getFloatValue() : Float.parseFloat(trimmed(in));
            case DOUBLE:
                return in -> isFloat(in) ? in.getDoubleValue() : Double.parseDouble(trimmed(in));
            case CHAR:
            case VARCHAR:
                return JsonValueReaders::readString;
            case DATE:
                return in -> TimeText.parseDate(
                        in.getTextCharacters(), in.getTextOffset(), in.getTextLength());
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                return in -> TimeText.parseTimestamp(
                        in.getTextCharacters(), in.getTextOffset(), in.getTextLength(), false);
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                return in -> TimeText.parseTimestamp(
                        in.getTextCharacters(), in.getTextOffset(), in.getTextLength(), true);
            case DECIMAL:
                return decimalReader((DecimalType) type);
            case ARRAY:
                return arrayReader(column, (ArrayType) type);
            default:
                throw JsonValueWriters.unsupported(column, type);
        }
    }

    /** The value at the current token, null for a JSON null. */
    static Object readNullable(ValueReader reader, JsonParser in) throws IOException {
        return in.currentToken() == JsonToken.VALUE_NULL ? null : reader.read(in);
    }

    private static boolean isInteger(JsonParser in) {
        return in.currentToken() == JsonToken.VALUE_NUMBER_INT;
    }

    private static boolean isFloat(JsonParser in) {
        return in.currentToken() == JsonToken.VALUE_NUMBER_FLOAT;
    }

    private static boolean isNumber(JsonParser in) {
        return isInteger(in) || isFloat(in);
    }

    private static String trimmed(JsonParser in) throws IOException {
        return in.getText().trim();
    }

    private static Object readBoolean(JsonParser in) throws IOException {
        JsonToken token = in.currentToken();
        if (token == JsonToken.VALUE_TRUE || token == JsonToken.VALUE_FALSE) {
            return token == JsonToken.VALUE_TRUE;
        }
        return Boolean.parseBoolean(trimmed(in));
    }

    private static Object readByte(JsonParser in) throws IOException {
        if (!isInteger(in)) {
            return Byte.parseByte(trimmed(in));
        }
        // not getByteValue(): it accepts -128..255
        int value = in.getIntValue();
        if (value < Byte.MIN_VALUE || value > Byte.MAX_VALUE) {
            throw new JsonParseException(
                    in, String.format("Numeric value (%s) out of range of Java byte.", value));
        }
        return (byte) value;
    }

    private static Object readString(JsonParser in) throws IOException {
        JsonToken token = in.currentToken();
        if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
            return StringData.fromString(in.readValueAsTree().toString());
        }
        return StringData.fromString(in.getText());
    }

    private static ValueReader decimalReader(DecimalType type) {
        int precision = type.getPrecision();
        int scale = type.getScale();
        return in -> {
            BigDecimal value = in.currentToken() == JsonToken.VALUE_STRING
                    ? new BigDecimal(trimmed(in))
                    : in.getDecimalValue();
            // null when it does not fit the precision, as in Flink's json format
            return DecimalData.fromBigDecimal(value, precision, scale);
        };
    }

    private static ValueReader arrayReader(String column, ArrayType type) {
        ValueReader element = forType(column, type.getElementType());
        Class<?> elementClass = LogicalTypeUtils.toInternalConversionClass(type.getElementType());
        return in -> {
            if (in.currentToken() != JsonToken.START_ARRAY) {
                throw new IllegalStateException("Illegal JSON array data...");
            }
            List<Object> items = new ArrayList<>();
            while (in.nextToken() != JsonToken.END_ARRAY) {
                items.add(readNullable(element, in));
            }
            return new GenericArrayData(items.toArray((Object[]) Array.newInstance(elementClass, 0)));
        };
    }
}
