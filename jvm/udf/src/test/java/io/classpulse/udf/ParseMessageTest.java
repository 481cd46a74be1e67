package io.classpulse.udf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.core.memory.MemorySegment;
import org.apache.flink.core.memory.MemorySegmentFactory;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.binary.BinaryStringData;
import org.apache.flink.table.types.DataType;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ParseMessageTest {

    private static final String SPEC =
            "created   BIGINT    createTime        NOT NULL,\n"
                    + "user_id   BIGINT    data.userid       NOT NULL,\n"
                    + "role      INT       data.role,\n"
                    + "room      ID        data.room,\n"
                    + "label     STRING    data.msg.label,\n"
                    + "updated   DATETIME  update_time";

    private static final ParseMessage FUNCTION = ParseMessage.forSpec(SPEC);

    private static Row parse(String payload) {
        return FUNCTION.parse(payload.getBytes(StandardCharsets.UTF_8));
    }

    private static String reason(String payload) {
        return (String) parse(payload).getField(0);
    }

    // -- not exactly one JSON object -----------------------------------------------------

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "   ",
                "not json",
                "<html>502 Bad Gateway</html>",
                "[1,2,3]",
                "42",
                "\"text\"",
                "null",
                "{'createTime': 1}",
                "{\"createTime\":1,\"data\":{\"userid\":2}} trailing",
                "{\"createTime\":1,\"data\":{\"userid\":2}}{\"b\":2}",
                "{\"createTime\":1,\"data\":{\"userid\":2}}}",
                "{\"createTime\":1,\"data\":{\"userid\":2}} 1",
                "{\"createTime\":1,\"data\":{\"userid\":2}",
                "{\"createTime\":1,\"data\":{\"userid\":2},}",
                "{\"createTime\":01,\"data\":{\"userid\":2}}",
                "{\"createTime\":1,\"data\":{\"userid\":2},\"x\":NaN}",
                "{\"createTime\":1,\"data\":{\"userid\":2},\"x\":[1,}",
                "{\"createTime\":1,\"data\":{\"userid\":2},\"x\":\"bad \\q escape\"}",
                "{\"createTime\":1,\"data\":{\"userid\":2},\"x\":\"raw \t tab\"}",
                "{\"createTime\":1,\"data\":{\"userid\":2}} // comment",
                "{\"createTime\":1 \"data\":{\"userid\":2}}",
            })
    void notOneJsonObjectIsMalformed(String payload) {
        Row row = parse(payload);
        assertEquals("malformed_json", row.getField(0));
        for (int i = 1; i < row.getArity(); i++) {
            assertNull(row.getField(i));
        }
    }

    @Test
    void nullPayloadAndInvalidUtf8AreMalformed() {
        assertEquals("malformed_json", FUNCTION.parse(null).getField(0));
        byte[] bad = "{\"createTime\":1,\"data\":{\"userid\":2},\"x\":\"\u00e9\"}"
                .getBytes(StandardCharsets.UTF_8);
        byte[] broken = new byte[bad.length - 1];
        // drop the second byte of é: an invalid UTF-8 sequence inside a string
        int at = new String(bad, StandardCharsets.ISO_8859_1).indexOf('\u00c3');
        System.arraycopy(bad, 0, broken, 0, at + 1);
        System.arraycopy(bad, at + 2, broken, at + 1, bad.length - at - 2);
        assertEquals("malformed_json", FUNCTION.parse(broken).getField(0));
        byte[] valid = "{\"createTime\":1,\"data\":{\"userid\":2}}".getBytes(StandardCharsets.UTF_8);
        assertEquals(null, FUNCTION.parse(valid).getField(0));
        byte[] withBom = new byte[valid.length + 3];
        withBom[0] = (byte) 0xEF;
        withBom[1] = (byte) 0xBB;
        withBom[2] = (byte) 0xBF;
        System.arraycopy(valid, 0, withBom, 3, valid.length);
        assertEquals("malformed_json", FUNCTION.parse(withBom).getField(0));
        byte[] utf16 = "{\"createTime\":1,\"data\":{\"userid\":2}}".getBytes(StandardCharsets.UTF_16BE);
        assertEquals("malformed_json", FUNCTION.parse(utf16).getField(0));
    }

    // -- valid layouts ---------------------------------------------------------------------

    @Test
    void readsEveryFieldWithItsType() {
        Row row =
                parse(
                        "{\"createTime\":1700000000123,\"data\":{\"userid\":\"42\",\"role\":2,"
                                + "\"room\":7,\"msg\":{\"label\":\"a\\\"b\\u00e9\\ud83d\\ude00\"}},"
                                + "\"update_time\":\"2024-02-29 23:59:59\"}");
        assertEquals(
                Row.of(null, 1700000000123L, 42L, 2, "7", "a\"b\u00e9\ud83d\ude00",
                        "2024-02-29 23:59:59"),
                row);
    }

    @Test
    void whitespaceKeyOrderAndCrlfDoNotMatter() {
        Row compact = parse("{\"createTime\":1,\"data\":{\"userid\":2,\"role\":\"3\"}}");
        Row spaced =
                parse(" \t{ \"data\" : {\r\n \"role\" : 3 ,\"userid\":\"2\" } ,\"createTime\" : \"1\"}\r\n");
        assertEquals(Row.of(null, 1L, 2L, 3, null, null, null), compact);
        assertEquals(compact, spaced);
    }

    @Test
    void unknownKeysOfAnyShapeAreSkipped() {
        Row row =
                parse(
                        "{\"extra\":{\"deep\":[1,{\"userid\":\"x\"},null,true,1.5e3]},\"createTime\":1,"
                                + "\"data\":{\"userid\":2,\"other\":{\"role\":\"x\"}},\"z\":\"\\u0000\"}");
        assertEquals(Row.of(null, 1L, 2L, null, null, null, null), row);
    }

    @Test
    void aRepeatedKeyTakesItsLastValue() {
        assertEquals(2L, parse("{\"createTime\":\"x\",\"createTime\":2,\"data\":{\"userid\":2}}")
                .getField(1));
        // a whole object repeated: fields of the earlier one are forgotten
        assertEquals(
                "missing_field",
                reason("{\"createTime\":1,\"data\":{\"userid\":2,\"role\":1},\"data\":{\"role\":1}}"));
        assertEquals(
                "missing_field", reason("{\"createTime\":1,\"data\":{\"userid\":2},\"data\":null}"));
        assertEquals(
                Row.of(null, 1L, 5L, null, null, null, null),
                parse("{\"createTime\":1,\"data\":\"x\",\"data\":{\"userid\":5}}"));
    }

    // -- missing fields ----------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{}",
                "{\"data\":{\"userid\":2}}",
                "{\"createTime\":null,\"data\":{\"userid\":2}}",
                "{\"createTime\":1,\"data\":{\"userid\":null}}",
                "{\"createTime\":1,\"data\":null}",
                "{\"createTime\":1,\"data\":\"oops\"}",
                "{\"createTime\":1,\"data\":[{\"userid\":2}]}",
                "{\"createTime\":1,\"data\":{\"user_id\":2}}",
                "{\"createTime\":1,\"data\":{\"UserId\":2}}",
                // a missing field takes precedence over a wrong type
                "{\"createTime\":\"abc\",\"data\":{}}",
                "{\"createTime\":{\"a\":1}}",
            })
    void absentOrNullRequiredFieldIsMissing(String payload) {
        assertEquals("missing_field", reason(payload));
    }

    @Test
    void optionalFieldsMayBeAbsentOrNull() {
        assertEquals(
                Row.of(null, 1L, 2L, null, null, null, null),
                parse("{\"createTime\":1,\"data\":{\"userid\":2,\"role\":null,\"room\":null,"
                        + "\"msg\":{\"label\":null}},\"update_time\":null}"));
        assertEquals(
                Row.of(null, 1L, 2L, null, null, null, null),
                parse("{\"createTime\":1,\"data\":{\"userid\":2,\"msg\":null}}"));
    }

    // -- wrong types -----------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(
            strings = {
                "\"abc\"", "\"\"", "\" 1\"", "\"1 \"", "\"+1\"", "\"1.5\"", "1.5", "1.0", "1e3",
                "-1.0E2", "true", "false", "{\"a\":1}", "[1]", "[]", "\"0x10\"", "\"1_000\"",
                "9223372036854775808", "\"9223372036854775808\"", "-9223372036854775809",
                "123456789012345678901234567890", "\"\u0661\u0662\"", "\"-\"",
            })
    void bigintTakesOnlyIntegersThatFit(String value) {
        assertEquals("wrong_type", reason("{\"createTime\":" + value + ",\"data\":{\"userid\":2}}"));
    }

    @Test
    void bigintBoundsAndNumericStrings() {
        assertEquals(Long.MAX_VALUE, parse("{\"createTime\":9223372036854775807,\"data\":{\"userid\":2}}").getField(1));
        assertEquals(Long.MIN_VALUE, parse("{\"createTime\":\"-9223372036854775808\",\"data\":{\"userid\":2}}").getField(1));
        assertEquals(7L, parse("{\"createTime\":\"007\",\"data\":{\"userid\":2}}").getField(1));
        assertEquals(0L, parse("{\"createTime\":-0,\"data\":{\"userid\":2}}").getField(1));
    }

    @Test
    void intTakesOnly32BitIntegers() {
        String base = "{\"createTime\":1,\"data\":{\"userid\":2,\"role\":%s}}";
        assertEquals(2147483647, parse(String.format(base, "2147483647")).getField(3));
        assertEquals(-2147483648, parse(String.format(base, "\"-2147483648\"")).getField(3));
        assertEquals("wrong_type", reason(String.format(base, "2147483648")));
        assertEquals("wrong_type", reason(String.format(base, "\"-2147483649\"")));
        assertEquals("wrong_type", reason(String.format(base, "2.0")));
    }

    @Test
    void idsAreStringsOrIntegers() {
        String base = "{\"createTime\":1,\"data\":{\"userid\":2,\"room\":%s}}";
        assertEquals("42", parse(String.format(base, "42")).getField(4));
        assertEquals("42", parse(String.format(base, "\"42\"")).getField(4));
        assertEquals("r-1 é", parse(String.format(base, "\"r-1 é\"")).getField(4));
        assertEquals("", parse(String.format(base, "\"\"")).getField(4));
        assertEquals(
                "123456789012345678901234567890",
                parse(String.format(base, "123456789012345678901234567890")).getField(4));
        for (String wrong : new String[] {"4.2", "1e2", "true", "{}", "[\"42\"]", "\"\\ud800\""}) {
            assertEquals("wrong_type", reason(String.format(base, wrong)), wrong);
        }
    }

    @Test
    void stringsTakeAnyScalarAsText() {
        String base = "{\"createTime\":1,\"data\":{\"userid\":2,\"msg\":{\"label\":%s}}}";
        assertEquals("1.50", parse(String.format(base, "1.50")).getField(5));
        assertEquals("-7", parse(String.format(base, "-7")).getField(5));
        assertEquals("true", parse(String.format(base, "true")).getField(5));
        assertEquals("line\nbreak\u2028", parse(String.format(base, "\"line\\nbreak\\u2028\"")).getField(5));
        assertEquals("wrong_type", reason(String.format(base, "{\"a\":1}")));
        assertEquals("wrong_type", reason(String.format(base, "[]")));
        assertEquals("wrong_type", reason(String.format(base, "\"lone \\udc00\"")));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "yesterday", "N/A", "", "2024-02-30 10:00:00", "2023-02-29 00:00:00",
                "1900-02-29 00:00:00", "2024-13-01 00:00:00", "2024-00-10 00:00:00",
                "2024-01-00 00:00:00", "2024-04-31 00:00:00", "2024-01-01 24:00:00",
                "2024-01-01 23:60:00", "2024-01-01 23:59:60", "0000-01-01 00:00:00",
                "2024-01-01T10:00:00", "2024-01-01 10:00", "2024-01-01 10:00:00.000",
                "2024-1-01 10:00:00", " 2024-01-01 10:00:00", "2024-01-01 10:00:00 ",
                "２０２４-01-01 10:00:00", "2024/01/01 10:00:00",
            })
    void datetimesMustBeRealMoments(String value) {
        assertEquals(
                "wrong_type",
                reason("{\"createTime\":1,\"data\":{\"userid\":2},\"update_time\":\"" + value + "\"}"));
    }

    @Test
    void validDatetimesAndNonStrings() {
        String base = "{\"createTime\":1,\"data\":{\"userid\":2},\"update_time\":%s}";
        for (String valid :
                new String[] {
                    "2024-02-29 00:00:00", "2000-02-29 12:30:59", "0001-01-01 00:00:00",
                    "9999-12-31 23:59:59"
                }) {
            assertEquals(valid, parse(String.format(base, "\"" + valid + "\"")).getField(6));
        }
        assertEquals("wrong_type", reason(String.format(base, "20240101100000")));
        assertEquals("wrong_type", reason(String.format(base, "{}")));
    }

    // -- UBIGINT: unsigned 64-bit ids (room ids) ----------------------------------------------

    private static final ParseMessage ROOMS = ParseMessage.forSpec("room UBIGINT room_id NOT NULL");

    private static Row room(String payload) {
        return ROOMS.parse(payload.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void unsignedIdsTakeIntegersAndDigitStringsUpTo2To64Minus1() {
        assertEquals(new BigDecimal("0"), room("{\"room_id\":0}").getField(1));
        assertEquals(new BigDecimal("42"), room("{\"room_id\":\"42\"}").getField(1));
        assertEquals(
                new BigDecimal("18446744073709551615"),
                room("{\"room_id\":18446744073709551615}").getField(1));
        assertEquals(
                new BigDecimal("18446744073709551615"),
                room("{\"room_id\":\"18446744073709551615\"}").getField(1));
        assertNull(room("{\"room_id\":\"42\"}").getField(0));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"room_id\":18446744073709551616}",
                "{\"room_id\":\"18446744073709551616\"}",
                "{\"room_id\":-1}",
                "{\"room_id\":\"-1\"}",
                "{\"room_id\":\"+1\"}",
                "{\"room_id\":\" 1\"}",
                "{\"room_id\":\"\"}",
                "{\"room_id\":1.0}",
                "{\"room_id\":1e3}",
                "{\"room_id\":true}",
                "{\"room_id\":[1]}",
            })
    void unsignedIdsRefuseTheRest(String payload) {
        assertEquals("wrong_type", room(payload).getField(0));
    }

    @Test
    void anAbsentUnsignedIdIsMissing() {
        assertEquals("missing_field", room("{\"room_id\":null}").getField(0));
        assertEquals("DECIMAL(20, 0)", MessageSpec.parse("r UBIGINT x").fields().get(0).type
                .outputType.toString());
    }

    // -- BIGINT_ARRAY: a list of integers (message ids) ----------------------------------------

    private static final ParseMessage LISTS =
            ParseMessage.forSpec("ids BIGINT_ARRAY ids NOT NULL, n BIGINT n");

    private static Row list(String payload) {
        return LISTS.parse(payload.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void integerListsTakeIntegersAndDigitStrings() {
        Row row = list("{\"ids\":[3, \"1\", -2, 3], \"n\": 5}");
        assertNull(row.getField(0));
        assertArrayEquals(new Long[] {3L, 1L, -2L, 3L}, (Long[]) row.getField(1));
        assertEquals(5L, row.getField(2));
        assertArrayEquals(new Long[0], (Long[]) list("{\"ids\":[]}").getField(1));
        assertArrayEquals(new Long[] {7L}, (Long[]) list("{\"ids\":[1],\"ids\":[7]}").getField(1));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"ids\":5}",
                "{\"ids\":\"5\"}",
                "{\"ids\":{\"a\":1}}",
                "{\"ids\":[1.0]}",
                "{\"ids\":[\"1,2\"]}",
                "{\"ids\":[\" 1\"]}",
                "{\"ids\":[null]}",
                "{\"ids\":[true]}",
                "{\"ids\":[[1]]}",
                "{\"ids\":[{\"a\":1}]}",
                "{\"ids\":[9223372036854775808]}",
                "{\"ids\":[1], \"n\": 1.5}",
            })
    void integerListsRefuseTheRest(String payload) {
        assertEquals("wrong_type", list(payload).getField(0));
    }

    @Test
    void integerListsKeepThePrecedence() {
        assertEquals("missing_field", list("{\"ids\":null}").getField(0));
        assertEquals("missing_field", list("{\"n\":[1]}").getField(0));
        assertEquals("malformed_json", list("{\"ids\":[1,]}").getField(0));
        assertEquals("malformed_json", list("{\"ids\":[1").getField(0));
        assertEquals("malformed_json", list("{\"ids\":[[1}]}").getField(0));
        assertEquals("ARRAY<BIGINT>",
                MessageSpec.parse("r BIGINT_ARRAY x").fields().get(0).type.outputType.toString());
    }

    // -- the spec ----------------------------------------------------------------------------

    @Test
    void outputTypeFollowsTheSpec() {
        DataType type = MessageSpec.parse(SPEC).outputType();
        assertEquals(
                "ROW<`reason` STRING, `created` BIGINT, `user_id` BIGINT, `role` INT, "
                        + "`room` STRING, `label` STRING, `updated` STRING>",
                type.toString());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "a BIGINT x,",
                "a BIGINT",
                "a FLOAT x",
                "a BIGINT x NULL",
                "a BIGINT x, a STRING y",
                "reason STRING x",
                "a BIGINT x, b BIGINT x",
                "a BIGINT x, b BIGINT x.y",
                "a BIGINT x.y, b BIGINT x",
                "a BIGINT x..y",
                "1a BIGINT x",
            })
    void badSpecsAreRefused(String spec) {
        assertThrows(IllegalArgumentException.class, () -> MessageSpec.parse(spec));
    }

    /** The rows {@code function} emits, as it emits them. */
    private static List<Row> collectedRows(ParseMessage function) {
        List<Row> rows = new ArrayList<>();
        function.setCollector(
                new Collector<Row>() {
                    @Override
                    public void collect(Row row) {
                        rows.add(row);
                    }

                    @Override
                    public void close() {}
                });
        return rows;
    }

    @Test
    void evalEmitsExactlyOneRowPerMessage() {
        ParseMessage function = new ParseMessage();
        List<Row> rows = collectedRows(function);
        StringData spec = StringData.fromString("a BIGINT a NOT NULL");
        function.eval(StringData.fromString("{\"a\":1}"), spec);
        function.eval(StringData.fromString("{\"a\":1} x"), spec);
        function.eval(null, spec);
        function.eval(StringData.fromString("{\"a\":\"b\"}"), StringData.fromString("a STRING a"));
        assertEquals(
                List.of(Row.of(null, 1L), Row.of("malformed_json", null),
                        Row.of("malformed_json", null), Row.of(null, "b")),
                rows);
    }

    @Test
    void evalReadsAPayloadInPlaceWithinItsSegment() {
        // a payload that is a window of a larger buffer (as a record's bytes in a segment): only
        // the window is the message, the bytes around it are not read
        ParseMessage function = new ParseMessage();
        List<Row> rows = collectedRows(function);
        StringData spec = StringData.fromString("a BIGINT a NOT NULL");
        byte[] buffer = "x{\"a\":7}} y{\"a\":8} z".getBytes(StandardCharsets.UTF_8);
        MemorySegment[] segments = {MemorySegmentFactory.wrap(buffer)};
        function.eval(BinaryStringData.fromAddress(segments, 1, 7), spec); // {"a":7}
        function.eval(BinaryStringData.fromAddress(segments, 11, 9), spec); // {"a":8} z
        function.eval(BinaryStringData.fromAddress(segments, 0, 8), spec); // x{"a":7}
        assertEquals(
                List.of(Row.of(null, 7L), Row.of("malformed_json", null),
                        Row.of("malformed_json", null)),
                rows);
    }

    @Test
    void helpers() {
        assertTrue(ParseMessage.isDatetime("2024-02-29 00:00:00"));
        assertFalse(ParseMessage.isDatetime("2100-02-29 00:00:00"));
        assertNull(ParseMessage.parseInteger("", 0, 1));
        assertFalse(ParseMessage.hasUnpairedSurrogate("\ud83d\ude00"));
        assertTrue(ParseMessage.hasUnpairedSurrogate("\ude00\ud83d"));
    }

    // -- PRESENT: presence that survives a wrong type -------------------------------------

    private static final ParseMessage ENTER =
            ParseMessage.forSpec(
                    "action       STRING   action  NOT NULL,\n"
                            + "started_at   BIGINT   started_at,\n"
                            + "has_started  PRESENT  started_at,\n"
                            + "has_result   PRESENT  result");

    private static Row enter(String payload) {
        return ENTER.parse(payload.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void presentIsTrueForAnyValueAndFalseForAbsentOrNull() {
        assertEquals(Row.of(null, "enter", 5L, true, true), enter("{\"action\":\"enter\",\"started_at\":5,\"result\":{}}"));
        assertEquals(Row.of(null, "enter", null, false, false), enter("{\"action\":\"enter\",\"started_at\":null}"));
        assertEquals(Row.of(null, "leave", null, false, true), enter("{\"action\":\"leave\",\"result\":[1]}"));
    }

    @Test
    void presentIsKeptInTheRowOfAWrongType() {
        assertEquals(
                Row.of("wrong_type", "enter", null, true, false),
                enter("{\"action\":\"enter\",\"started_at\":\"soon\"}"));
        assertEquals(Row.of("missing_field", null, null, null, null), enter("{\"started_at\":1}"));
        assertEquals(Row.of("malformed_json", null, null, null, null), enter("{\"action\":\"enter\"} x"));
    }

    @Test
    void aPathIsReadOnceAndAtMostOnceMoreByPresent() {
        assertThrows(IllegalArgumentException.class, () -> MessageSpec.parse("a BIGINT x, b STRING x"));
        assertThrows(
                IllegalArgumentException.class,
                () -> MessageSpec.parse("a BIGINT x, b PRESENT x, c PRESENT x"));
        assertThrows(IllegalArgumentException.class, () -> MessageSpec.parse("a PRESENT x NOT NULL"));
        MessageSpec spec = MessageSpec.parse("b PRESENT x, a BIGINT x");
        assertEquals(2, spec.fields().size());
    }
}
