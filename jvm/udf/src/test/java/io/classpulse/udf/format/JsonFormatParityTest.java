package io.classpulse.udf.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.functions.util.ListCollector;
import org.apache.flink.formats.common.TimestampFormat;
import org.apache.flink.formats.json.JsonFormatOptions;
import org.apache.flink.formats.json.JsonParserRowDataDeserializationSchema;
import org.apache.flink.formats.json.JsonRowDataSerializationSchema;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonGenerator;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.BigIntType;
import org.apache.flink.table.types.logical.BooleanType;
import org.apache.flink.table.types.logical.DateType;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.DoubleType;
import org.apache.flink.table.types.logical.FloatType;
import org.apache.flink.table.types.logical.IntType;
import org.apache.flink.table.types.logical.LocalZonedTimestampType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.MapType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.SmallIntType;
import org.apache.flink.table.types.logical.TimestampType;
import org.apache.flink.table.types.logical.TinyIntType;
import org.apache.flink.table.types.logical.VarCharType;
import org.junit.jupiter.api.Test;

/**
 * classpulse-json against Flink's json format (flink-json, the version the jobs run): for random
 * rows the bytes written are Flink's bytes, and on the same texts (also with keys reordered,
 * whitespace, escapes, missing and unknown fields) the rows read are Flink's rows.
 */
class JsonFormatParityTest {

    private static final int ROWS = 20_000;
    private static final TypeInformation<RowData> TYPE_INFO = TypeInformation.of(RowData.class);

    /** Every type the tables use, and the other simple ones the format supports. */
    private static final RowType ROW = RowType.of(
            new LogicalType[] {
                new BooleanType(), new TinyIntType(), new SmallIntType(), new IntType(),
                new BigIntType(), new FloatType(), new DoubleType(), VarCharType.STRING_TYPE,
                new DateType(), new TimestampType(3), new TimestampType(9),
                new LocalZonedTimestampType(3), new DecimalType(20, 0), new DecimalType(10, 3),
                new ArrayType(VarCharType.STRING_TYPE), new ArrayType(new IntType()),
            },
            new String[] {
                "flag", "tiny", "small", "num", "big", "ratio", "score", "text", "day", "at",
                "at_nanos", "at_utc", "room_id", "amount", "tags", "counts",
            });

    /** Characters strings are drawn from: quotes, escapes, controls, non-ASCII, surrogates. */
    private static final String ALPHABET = "ab Z09\"\\/\b\f\n\r\t\u0000\u0001\u001f\u007f"
            + "é中文\u2028\u2029\uffff😀𝄞'<>&{}[]:,";

    private final Random random = new Random(20261207L);

    @Test
    void writesFlinksBytesForRandomRows() throws Exception {
        for (boolean plain : new boolean[] {true, false}) {
            JsonRowDataSerializationSchema flink = flinkWriter(plain);
            JsonRowWriter ours = new JsonRowWriter(ROW, plain);
            ours.open(null);
            for (int i = 0; i < ROWS; i++) {
                RowData row = randomRow();
                assertEquals(printable(flink.serialize(row)), printable(ours.serialize(row)),
                        "row " + i);
            }
        }
    }

    @Test
    void writesTheEdgesOfEveryType() throws Exception {
        JsonRowDataSerializationSchema flink = flinkWriter(true);
        JsonRowWriter ours = new JsonRowWriter(ROW, true);
        ours.open(null);
        for (RowData row : edgeRows()) {
            assertEquals(printable(flink.serialize(row)), printable(ours.serialize(row)));
        }
    }

    @Test
    void readsFlinksRowsFromTheSameText() throws Exception {
        JsonParserRowDataDeserializationSchema flink = flinkReader(ROW);
        JsonRowReader ours = ourReader(ROW);
        JsonRowDataSerializationSchema writer = flinkWriter(true);
        ObjectMapper mapper = new ObjectMapper();
        for (int i = 0; i < ROWS; i++) {
            byte[] written = writer.serialize(i < 50 ? edgeRows().get(i % edgeRows().size()) : randomRow());
            for (byte[] text : new byte[][] {written, rewritten(mapper, written)}) {
                List<RowData> expected = read(flink, text);
                assertEquals(expected, read(ours, text), utf8(text));
                assertEquals(1, expected.size());
            }
        }
    }

    @Test
    void readsHandWrittenTextsAsFlinkDoes() throws Exception {
        JsonParserRowDataDeserializationSchema flink = flinkReader(ROW);
        JsonRowReader ours = ourReader(ROW);
        String[] texts = {
            "{}",
            "{\"num\": 1.9, \"big\": \"42\", \"tiny\": \"-7\", \"flag\": \"TRUE\", \"score\": 3}",
            "{\"text\": {\"nested\": [1, {\"a\": null}]}, \"extra\": [[{}]], \"num\": 5}",
            "{\"text\": [1, \"x\"], \"tags\": [\"a\", null, \"\\u00e9\\/\\\"\"], \"counts\": []}",
            "  {\"at_utc\" : \"2024-02-29 23:59:59.5Z\" ,\n\t\"day\":\"1969-12-31\"}  ",
            "{\"at\": \"2023-02-29 00:00:00\"}", "{\"at_utc\": \"2023-04-31 00:00:00Z\"}",
            "{\"day\": \"2024-02-30\"}", "{\"at\": \"2024-01-01 24:00:00\"}",
            "{\"at\": \"2024-01-01 00:00:00.\"}", "{\"at\": \"2024-01-01 00:00:60\"}",
            "{\"at\": \"+12024-01-01 00:00:00\"}", "{\"day\": \"-0001-01-01\"}",
            "{\"at\": \"0001-01-01 00:00:00.000000001\", \"at_nanos\": \"9999-12-31 23:59:59.999999999\"}",
            "{\"room_id\": \"123456789012345678901\", \"amount\": 1234567.1234}",
            "{\"room_id\": 1E+3, \"amount\": \"-0.0005\"}",
            "[{\"num\": 1}, {\"num\": 2}]",
            "{\"num\": 1, \"num\": 2}",
            "{\"ratio\": \"NaN\", \"score\": \"-Infinity\", \"small\": 32767}",
            "{\"text\": \"tab\there\", \"num\": null, \"tags\": null}",
            "{\"num\": 1} trailing",
            "",
        };
        for (String text : texts) {
            assertSameOutcome(flink, ours, text);
        }
    }

    /** Flink's rows, or an error (naming the message) where Flink fails. */
    private static void assertSameOutcome(
            DeserializationSchema<RowData> flink, DeserializationSchema<RowData> ours, String text)
            throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        List<RowData> expected;
        try {
            expected = read(flink, bytes);
        } catch (IOException flinkFailed) {
            IOException error = assertThrows(IOException.class, () -> read(ours, bytes), text);
            assertTrue(error.getMessage().contains(text), error.getMessage());
            return;
        }
        assertEquals(expected, read(ours, bytes), text);
    }

    @Test
    void failsOnMalformedMessagesAsFlinkDoes() throws Exception {
        JsonParserRowDataDeserializationSchema flink = flinkReader(ROW);
        JsonRowReader ours = ourReader(ROW);
        String[] texts = {
            "{\"num\": ", "not json", "42", "\"text\"", "{\"num\": true}", "{\"tiny\": 200}",
            "{\"day\": \"2024-1-1\"}", "{\"at_utc\": \"2024-01-01 00:00:00\"}",
            "{\"at\": \"2024-01-01T00:00:00\"}", "{\"big\": \"x\"}", "{\"tags\": \"a\"}",
            "{\"at\": \"2024-01-01 00:00:00.1234567890\"}",
        };
        for (String text : texts) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            assertThrows(IOException.class, () -> read(flink, bytes), text);
            IOException error = assertThrows(IOException.class, () -> read(ours, bytes), text);
            assertTrue(error.getMessage().contains(text), error.getMessage());
        }
    }

    @Test
    void projectsColumnsByName() throws Exception {
        RowType projected = RowType.of(
                new LogicalType[] {new TimestampType(3), new IntType()}, new String[] {"at", "num"});
        JsonRowReader ours = ourReader(projected);
        byte[] text = "{\"num\": 7, \"text\": \"x\", \"at\": \"1970-01-01 00:00:00.001\"}"
                .getBytes(StandardCharsets.UTF_8);
        assertEquals(List.of(GenericRowData.of(TimestampData.fromEpochMillis(1), 7)), read(ours, text));
    }

    @Test
    void rejectsAnUnsupportedTypeNamingTheColumn() {
        RowType row = RowType.of(
                new LogicalType[] {new MapType(VarCharType.STRING_TYPE, new IntType())},
                new String[] {"scores"});
        ValidationException writing = assertThrows(ValidationException.class,
                () -> new JsonRowWriter(row, true));
        assertTrue(writing.getMessage().contains("'scores' of type MAP<STRING, INT>"),
                writing.getMessage());
        assertThrows(ValidationException.class, () -> new JsonRowReader(row, TYPE_INFO));
    }

    /** Flink's json writer with the options of our tables (SQL timestamps, nulls written). */
    private static JsonRowDataSerializationSchema flinkWriter(boolean plainDecimals)
            throws Exception {
        JsonRowDataSerializationSchema flink = new JsonRowDataSerializationSchema(
                ROW, TimestampFormat.SQL, JsonFormatOptions.MapNullKeyMode.FAIL, "null",
                plainDecimals, false);
        flink.open(null);
        return flink;
    }

    private static JsonParserRowDataDeserializationSchema flinkReader(RowType row)
            throws Exception {
        JsonParserRowDataDeserializationSchema flink = new JsonParserRowDataDeserializationSchema(
                row, TYPE_INFO, false, false, TimestampFormat.SQL);
        flink.open(null);
        return flink;
    }

    private static JsonRowReader ourReader(RowType row) {
        JsonRowReader ours = new JsonRowReader(row, TYPE_INFO);
        ours.open(null);
        return ours;
    }

    private static List<RowData> read(DeserializationSchema<RowData> reader, byte[] text)
            throws IOException {
        List<RowData> rows = new ArrayList<>();
        reader.deserialize(text, new ListCollector<>(rows));
        return rows;
    }

    private static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The bytes as ASCII text, any other byte as {@code <hex>}, for a readable difference. */
    private static String printable(byte[] bytes) {
        StringBuilder text = new StringBuilder();
        for (byte b : bytes) {
            if (b >= 0x20 && b < 0x7f) {
                text.append((char) b);
            } else {
                text.append(String.format("<%02x>", b & 0xff));
            }
        }
        return text.toString();
    }

    /** The same object with its keys shuffled, some dropped, unknown ones added, non-ASCII escaped, indented. */
    private byte[] rewritten(ObjectMapper mapper, byte[] text) throws IOException {
        ObjectNode node = (ObjectNode) mapper.readTree(text);
        List<Map.Entry<String, JsonNode>> fields = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            fields.add(it.next());
        }
        Collections.shuffle(fields, random);
        ObjectNode shuffled = mapper.createObjectNode();
        shuffled.putArray("unknown_first").add(1).addObject().put("x", "y");
        for (Map.Entry<String, JsonNode> field : fields) {
            if (random.nextInt(8) != 0) {
                shuffled.set(field.getKey(), field.getValue());
            }
        }
        shuffled.put("unknown_last", "z");
        return mapper.writerWithDefaultPrettyPrinter()
                .with(JsonGenerator.Feature.ESCAPE_NON_ASCII)
                .writeValueAsBytes(shuffled);
    }

    private RowData randomRow() {
        GenericRowData row = new GenericRowData(ROW.getFieldCount());
        row.setField(0, random.nextBoolean());
        row.setField(1, (byte) random.nextInt());
        row.setField(2, (short) random.nextInt());
        row.setField(3, random.nextInt());
        row.setField(4, random.nextBoolean() ? random.nextLong() : (long) random.nextInt(1000));
        row.setField(5, randomFloat());
        row.setField(6, randomDouble());
        row.setField(7, randomString());
        row.setField(8, random.nextInt(4_000_000) - 1_000_000);  // years -768 to 12921
        row.setField(9, TimestampData.fromEpochMillis(randomMillis()));
        row.setField(10, TimestampData.fromEpochMillis(randomMillis(), random.nextInt(1_000_000)));
        row.setField(11, TimestampData.fromEpochMillis(randomMillis()));
        row.setField(12, DecimalData.fromBigDecimal(
                new BigDecimal(new BigInteger(66, random).subtract(BigInteger.ONE.shiftLeft(64)))
                        .remainder(BigDecimal.TEN.pow(20)), 20, 0));
        row.setField(13, DecimalData.fromBigDecimal(
                BigDecimal.valueOf(random.nextInt(), random.nextInt(4)), 10, 3));
        row.setField(14, new GenericArrayData(new Object[] {
            randomString(), null, StringData.fromString("")}));
        row.setField(15, new GenericArrayData(new Integer[] {random.nextInt(), null}));
        for (int i = 0; i < row.getArity(); i++) {
            if (random.nextInt(7) == 0) {
                row.setField(i, null);
            }
        }
        return row;
    }

    private long randomMillis() {
        switch (random.nextInt(3)) {
            case 0:
                return random.nextLong() % 400_000_000_000_000L;  // years about -10700 to 14600
            case 1:
                return 1_700_000_000_000L + random.nextInt(1_000_000_000);
            default:
                return random.nextInt(2_000_000_000) * 1000L - 1_000_000_000_000L;  // whole seconds
        }
    }

    private float randomFloat() {
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f,
            Float.MIN_VALUE, Float.MAX_VALUE, 1e7f, 1e-3f, 0.1f};
        return random.nextInt(4) == 0
                ? specials[random.nextInt(specials.length)]
                : Float.intBitsToFloat(random.nextInt());
    }

    private double randomDouble() {
        double[] specials = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0,
            Double.MIN_VALUE, Double.MAX_VALUE, 1e7, 1e-3, 0.1, 100.0, 12345678.9};
        switch (random.nextInt(3)) {
            case 0:
                return specials[random.nextInt(specials.length)];
            case 1:
                return random.nextInt(100_000) / 100.0;
            default:
                return Double.longBitsToDouble(random.nextLong());
        }
    }

    /**
     * A string as a job holds it: a Java string (a function's result) or UTF-8 bytes (read or
     * sent between tasks), sometimes bytes that are no valid UTF-8 (a raw Kafka value).
     */
    private StringData randomString() {
        switch (random.nextInt(4)) {
            case 0:
                return StringData.fromString(randomText());
            case 1:
                byte[] bytes = new byte[random.nextInt(6)];
                random.nextBytes(bytes);
                return StringData.fromBytes(bytes);
            default:
                return StringData.fromBytes(randomText().getBytes(StandardCharsets.UTF_8));
        }
    }

    private String randomText() {
        StringBuilder text = new StringBuilder();
        int length = random.nextInt(12);
        for (int i = 0; i < length; i++) {
            int at = ALPHABET.offsetByCodePoints(0, random.nextInt(ALPHABET.codePointCount(0, ALPHABET.length())));
            text.appendCodePoint(ALPHABET.codePointAt(at));
        }
        if (random.nextInt(20) == 0) {
            text.append('\ud800');  // a lone surrogate
        }
        return text.toString();
    }

    /** Epoch 0, days and instants before 1970, leap days, the ends of 0000-9999, extremes. */
    private static List<RowData> edgeRows() {
        List<RowData> rows = new ArrayList<>();
        long[] millis = {0L, -1L, 1L, 999L, -86_400_000L, 951_782_400_000L /* 2000-02-29 */,
            -2_208_988_800_000L /* 1900-01-01 */, 253_402_300_799_999L /* 9999-12-31 end */,
            253_402_300_800_000L, -62_167_219_200_000L /* 0000-01-01 */, -62_167_219_200_001L,
            Long.MAX_VALUE / 1000, Long.MIN_VALUE / 1000};
        int[] days = {0, -1, 1, 11_016 /* 2000-02-29 */, -25_567, 2_932_896, 2_932_897,
            -719_528, -719_529, Integer.MAX_VALUE / 1000, Integer.MIN_VALUE / 1000};
        for (int i = 0; i < Math.max(millis.length, days.length); i++) {
            long at = millis[i % millis.length];
            rows.add(GenericRowData.of(
                    i % 2 == 0, Byte.MIN_VALUE, Short.MAX_VALUE, Integer.MIN_VALUE, Long.MIN_VALUE,
                    Float.NaN, i % 2 == 0 ? Double.NEGATIVE_INFINITY : -0.0,
                    StringData.fromString("\"\\\u0000\u001f😀"), days[i % days.length],
                    TimestampData.fromEpochMillis(at), TimestampData.fromEpochMillis(at, 999_999),
                    TimestampData.fromEpochMillis(at),
                    DecimalData.fromBigDecimal(new BigDecimal("-99999999999999999999"), 20, 0),
                    DecimalData.fromBigDecimal(new BigDecimal(i % 2 == 0 ? "0.000" : "1200.500"), 10, 3),
                    new GenericArrayData(new Object[0]), null));
        }
        return rows;
    }

    @Test
    void writesDatesOfYears0000To9999Itself() {
        byte[] scratch = new byte[TimeText.MAX_LENGTH];
        assertEquals(-1, TimeText.writeDate(2_932_897, scratch, 0));  // +10000-01-01
        assertEquals(10, TimeText.writeDate(2_932_896, scratch, 0));
        assertArrayEquals("9999-12-31".getBytes(StandardCharsets.US_ASCII),
                Arrays.copyOf(scratch, 10));
    }
}
