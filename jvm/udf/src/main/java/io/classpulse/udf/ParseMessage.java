package io.classpulse.udf;

import java.io.IOException;
import java.math.BigDecimal;
import java.time.Month;
import java.time.Year;
import java.util.Arrays;
import java.util.Optional;

import org.apache.flink.core.memory.MemorySegment;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.catalog.DataTypeFactory;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.binary.BinaryStringData;
import org.apache.flink.table.functions.TableFunction;
import org.apache.flink.table.types.inference.StaticArgument;
import org.apache.flink.table.types.inference.TypeInference;
import org.apache.flink.types.Row;

/**
 * {@code parse_message(payload, spec)}: reads one message once and returns exactly one row,
 * {@code reason} followed by the typed fields that {@code spec} names (see {@link MessageSpec}).
 *
 * <pre>
 *   SELECT m.payload, p.reason, p.create_time, ...
 *   FROM timeline_client_topic AS m,
 *       LATERAL TABLE(parse_message(m.payload, 'create_time BIGINT createTime NOT NULL, ...')) AS p
 * </pre>
 *
 * <p>The output columns are inferred from the spec, which must be a string literal. {@code reason}
 * is NULL for a valid message; otherwise every field is NULL and the reason is, in this order of
 * precedence (DATA_CONTRACT.md: a message that is not valid JSON, lacks a required field, or has
 * a value of the wrong type is rejected):
 *
 * <ol>
 *   <li>{@code malformed_json}: the payload is not exactly one JSON object (RFC 8259, strict:
 *       nothing but whitespace may follow the object, so {@code {"a":1} x}, {@code {"a":1}{"b":2}}
 *       and {@code {"a":1}}} are malformed; so are bytes that are not UTF-8 and a leading
 *       byte-order mark);
 *   <li>{@code missing_field}: a NOT NULL field is absent or JSON null (a path through a value
 *       that is not an object, e.g. {@code "data":"x"} for {@code data.userid}, is absent);
 *   <li>{@code wrong_type}: a field holds a value its type does not take: an object or array, a
 *       non-integer where a number is required, an invalid datetime, a string with an unpaired
 *       surrogate.
 * </ol>
 *
 * <p>A key that occurs twice in one object: the last occurrence wins (as Jackson's tree model,
 * Python's json and JavaScript do); the earlier value is still checked for syntax. Business rules
 * (which fields, their types, what is required, event classification, clock skew) stay in the
 * jobs' SQL; this class knows only JSON and the contract's value types.
 */
public final class ParseMessage extends TableFunction<Row> {

    private static final long serialVersionUID = 1L;

    public static final String MALFORMED_JSON = "malformed_json";
    public static final String MISSING_FIELD = "missing_field";
    public static final String WRONG_TYPE = "wrong_type";

    // Jackson's defaults are strict JSON: no comments, single quotes, NaN, leading zeros or
    // trailing commas; control characters in strings rejected. Thread-safe, shared.
    private static final JsonFactory JSON = JsonFactory.builder().build();

    /** What a message held at a field's path. */
    private static final byte ABSENT = 0; // absent or JSON null
    private static final byte TEXT = 1; // a JSON string
    private static final byte INTEGER = 2; // a JSON number without fraction or exponent
    private static final byte DECIMAL = 3; // any other JSON number
    private static final byte BOOLEAN = 4;
    private static final byte STRUCTURE = 5; // an object or an array
    private static final byte INTEGERS = 6; // for a BIGINT_ARRAY: an array of integers (as text)

    private transient StringData specText;
    private transient MessageSpec spec;
    private transient byte[] kinds;
    private transient String[] texts;

    @Override
    public TypeInference getTypeInference(DataTypeFactory typeFactory) {
        return TypeInference.newBuilder()
                .staticArguments(
                        StaticArgument.scalar(
                                "payload", DataTypes.STRING().bridgedTo(StringData.class), false),
                        StaticArgument.scalar(
                                "spec", DataTypes.STRING().bridgedTo(StringData.class), false))
                .outputTypeStrategy(
                        callContext -> {
                            if (!callContext.isArgumentLiteral(1)
                                    || callContext.isArgumentNull(1)) {
                                throw callContext.newValidationError(
                                        "%s: the field spec must be a string literal",
                                        callContext.getName());
                            }
                            String text =
                                    callContext.getArgumentValue(1, String.class).orElse("");
                            try {
                                return Optional.of(MessageSpec.parse(text).outputType());
                            } catch (IllegalArgumentException error) {
                                throw callContext.newValidationError(
                                        "%s: %s", callContext.getName(), error.getMessage());
                            }
                        })
                .build();
    }

    public void eval(StringData payload, StringData specLiteral) {
        if (specText == null || !specText.equals(specLiteral)) {
            compile(specLiteral);
        }
        if (payload instanceof BinaryStringData) {
            // the raw format hands over the record's bytes in one heap segment: read them in
            // place instead of copying every message (toBytes)
            BinaryStringData binary = (BinaryStringData) payload;
            binary.ensureMaterialized();
            MemorySegment[] segments = binary.getSegments();
            if (segments.length == 1 && !segments[0].isOffHeap()) {
                collect(parse(segments[0].getArray(), binary.getOffset(), binary.getSizeInBytes()));
                return;
            }
        }
        collect(parse(payload == null ? null : payload.toBytes()));
    }

    private void compile(StringData specLiteral) {
        String text = specLiteral.toString();
        spec = MessageSpec.parse(text);
        specText = StringData.fromString(text); // a copy: the caller may reuse its object
        kinds = new byte[spec.fields.size()];
        texts = new String[spec.fields.size()];
    }

    /** The row for one message: reason, then the fields. Visible for tests. */
    Row parse(byte[] payload) {
        return payload == null ? parse(null, 0, 0) : parse(payload, 0, payload.length);
    }

    /** The row for the message in {@code payload[offset, offset + length)}. */
    Row parse(byte[] payload, int offset, int length) {
        Arrays.fill(kinds, ABSENT);
        Arrays.fill(texts, null);
        if (payload == null
                || !plainUtf8(payload, offset, length)
                || !readObject(payload, offset, length)) {
            return rejected(MALFORMED_JSON);
        }
        for (int slot = 0; slot < kinds.length; slot++) { // a PRESENT field sees its twin's value
            int twin = spec.fields.get(slot).twin;
            if (twin >= 0 && spec.fields.get(slot).type == MessageSpec.FieldType.PRESENT) {
                kinds[slot] = kinds[twin];
            }
        }
        Object[] values = new Object[kinds.length + 1];
        boolean wrongType = false;
        for (int slot = 0; slot < kinds.length; slot++) {
            MessageSpec.Field field = spec.fields.get(slot);
            if (field.type == MessageSpec.FieldType.PRESENT) {
                values[slot + 1] = kinds[slot] != ABSENT;
                continue;
            }
            if (kinds[slot] == ABSENT) {
                if (field.required) {
                    return rejected(MISSING_FIELD);
                }
                continue;
            }
            Object value = convert(field.type, kinds[slot], texts[slot]);
            if (value == null) {
                wrongType = true; // keep looking: a missing field takes precedence
            }
            values[slot + 1] = value;
        }
        // a wrong type keeps the values that did convert (NULL where the type failed) and every
        // PRESENT, so a job can rank a rule that depends on them above the wrong type
        values[0] = wrongType ? WRONG_TYPE : null;
        return Row.of(values);
    }

    private Row rejected(String reason) {
        Object[] values = new Object[kinds.length + 1];
        values[0] = reason;
        return Row.of(values);
    }

    /**
     * Not a byte-order mark and no NUL among the first bytes: Jackson would otherwise skip the BOM
     * or read the bytes as UTF-16/32. A JSON text in UTF-8 starts with neither (RFC 8259, 8.1).
     */
    private static boolean plainUtf8(byte[] payload, int offset, int length) {
        if (length >= 3
                && payload[offset] == (byte) 0xEF
                && payload[offset + 1] == (byte) 0xBB
                && payload[offset + 2] == (byte) 0xBF) {
            return false;
        }
        for (int i = offset; i < offset + Math.min(4, length); i++) {
            if (payload[i] == 0) {
                return false;
            }
        }
        return true;
    }

    /** Reads the payload into kinds/texts; false when it is not exactly one JSON object. */
    private boolean readObject(byte[] payload, int offset, int length) {
        try (JsonParser parser = JSON.createParser(payload, offset, length)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            readMembers(parser, spec.root);
            return parser.nextToken() == null; // anything after the object is malformed
        } catch (IOException error) { // JsonProcessingException, stream constraints
            return false;
        }
    }

    /** The members of the object just opened, up to its END_OBJECT. */
    private void readMembers(JsonParser parser, MessageSpec.Node node) throws IOException {
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            MessageSpec.Node child = node.children.get(parser.currentName());
            JsonToken value = parser.nextToken();
            if (child == null) {
                parser.skipChildren(); // still tokenised: its syntax is checked
                continue;
            }
            for (int slot : child.slots) { // a repeated key: the last occurrence wins
                kinds[slot] = ABSENT;
                texts[slot] = null;
            }
            if (child.isLeaf()
                    && value == JsonToken.START_ARRAY
                    && spec.fields.get(child.slot).type == MessageSpec.FieldType.BIGINT_ARRAY) {
                readIntegers(parser, child.slot);
            } else if (child.isLeaf()) {
                readValue(parser, value, child.slot);
            } else if (value == JsonToken.START_OBJECT) {
                readMembers(parser, child);
            } else {
                parser.skipChildren(); // a scalar or array on the way: the fields are absent
            }
        }
    }

    /**
     * The elements of the array just opened, up to its END_ARRAY: INTEGERS with the integers
     * joined by commas when a BIGINT takes every element, else STRUCTURE (a wrong type).
     */
    private void readIntegers(JsonParser parser, int slot) throws IOException {
        StringBuilder joined = new StringBuilder();
        boolean integers = true;
        JsonToken element;
        while ((element = parser.nextToken()) != JsonToken.END_ARRAY) {
            if (element == null) {
                throw new IOException("end of input inside an array");
            }
            boolean integer =
                    (element == JsonToken.VALUE_NUMBER_INT || element == JsonToken.VALUE_STRING)
                            && parseInteger(parser.getText(), Long.MIN_VALUE, Long.MAX_VALUE)
                                    != null;
            if (integer) {
                joined.append(joined.length() == 0 ? "" : ",").append(parser.getText());
            } else {
                integers = false;
                parser.skipChildren(); // still tokenised: its syntax is checked
            }
        }
        kinds[slot] = integers ? INTEGERS : STRUCTURE;
        texts[slot] = integers ? joined.toString() : null;
    }

    private void readValue(JsonParser parser, JsonToken value, int slot) throws IOException {
        switch (value) {
            case VALUE_STRING:
                kinds[slot] = TEXT;
                texts[slot] = parser.getText();
                break;
            case VALUE_NUMBER_INT:
                kinds[slot] = INTEGER;
                texts[slot] = parser.getText();
                break;
            case VALUE_NUMBER_FLOAT:
                kinds[slot] = DECIMAL;
                texts[slot] = parser.getText();
                break;
            case VALUE_TRUE:
            case VALUE_FALSE:
                kinds[slot] = BOOLEAN;
                texts[slot] = value == JsonToken.VALUE_TRUE ? "true" : "false";
                break;
            case VALUE_NULL:
                break;
            default: // START_OBJECT, START_ARRAY
                kinds[slot] = STRUCTURE;
                parser.skipChildren();
        }
    }

    /** The typed value, or null when the type does not take it. */
    static Object convert(MessageSpec.FieldType type, byte kind, String text) {
        if (type == MessageSpec.FieldType.BIGINT_ARRAY) {
            return kind == INTEGERS ? parseIntegers(text) : null;
        }
        if (kind == STRUCTURE) {
            return null;
        }
        switch (type) {
            case STRING:
                return kind == TEXT && hasUnpairedSurrogate(text) ? null : text;
            case ID:
                if (kind == INTEGER) {
                    return text;
                }
                return kind == TEXT && !hasUnpairedSurrogate(text) ? text : null;
            case BIGINT:
                return kind == TEXT || kind == INTEGER
                        ? parseInteger(text, Long.MIN_VALUE, Long.MAX_VALUE)
                        : null;
            case UBIGINT:
                return kind == TEXT || kind == INTEGER ? parseUnsigned64(text) : null;
            case INT:
                Long number =
                        kind == TEXT || kind == INTEGER
                                ? parseInteger(text, Integer.MIN_VALUE, Integer.MAX_VALUE)
                                : null;
                return number == null ? null : (Object) number.intValue();
            case DATETIME:
                return kind == TEXT && isDatetime(text) ? text : null;
            default:
                throw new IllegalStateException("unknown type " + type);
        }
    }

    /** {@code -?[0-9]+} within [min, max], else null. */
    static Long parseInteger(String text, long min, long max) {
        int length = text.length();
        int start = length > 0 && text.charAt(0) == '-' ? 1 : 0;
        if (start == length) {
            return null;
        }
        for (int i = start; i < length; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
        }
        long value;
        try {
            value = Long.parseLong(text);
        } catch (NumberFormatException outOfRange) {
            return null;
        }
        return value < min || value > max ? null : value;
    }

    /** The integers readIntegers joined by commas (each already checked). */
    static Long[] parseIntegers(String joined) {
        if (joined.isEmpty()) {
            return new Long[0];
        }
        String[] parts = joined.split(",", -1);
        Long[] values = new Long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            values[i] = Long.parseLong(parts[i]);
        }
        return values;
    }

    private static final BigDecimal UNSIGNED_64_MAX = new BigDecimal("18446744073709551615");

    /** {@code [0-9]+} within [0, 2^64 - 1], as DECIMAL(20, 0); else null. */
    static BigDecimal parseUnsigned64(String text) {
        int length = text.length();
        if (length == 0) {
            return null;
        }
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
        }
        BigDecimal value = new BigDecimal(text); // scale 0: digits only
        return value.compareTo(UNSIGNED_64_MAX) > 0 ? null : value;
    }

    /** {@code YYYY-MM-DD HH:MM:SS}, a real date (Gregorian, year 0001-9999) and time of day. */
    static boolean isDatetime(String text) {
        if (text.length() != 19
                || text.charAt(4) != '-'
                || text.charAt(7) != '-'
                || text.charAt(10) != ' '
                || text.charAt(13) != ':'
                || text.charAt(16) != ':') {
            return false;
        }
        int year = digits(text, 0, 4);
        int month = digits(text, 5, 2);
        int day = digits(text, 8, 2);
        int hour = digits(text, 11, 2);
        int minute = digits(text, 14, 2);
        int second = digits(text, 17, 2);
        if (year < 1 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23
                || minute < 0 || minute > 59 || second < 0 || second > 59) {
            return false; // digits() gives -1 for a non-digit
        }
        return day <= Month.of(month).length(Year.isLeap(year));
    }

    private static int digits(String text, int start, int count) {
        int value = 0;
        for (int i = start; i < start + count; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    static boolean hasUnpairedSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return true;
            }
            if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    /** For tests: a function compiled for one spec. */
    static ParseMessage forSpec(String specText) {
        ParseMessage function = new ParseMessage();
        function.compile(StringData.fromString(specText));
        return function;
    }
}
