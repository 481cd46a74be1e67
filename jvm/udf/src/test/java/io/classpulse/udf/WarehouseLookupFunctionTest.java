package io.classpulse.udf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.types.DataType;
import org.junit.jupiter.api.Test;

/** The request a batch of keys becomes: one fixed query text, the keys bound as a parameter. */
class WarehouseLookupFunctionTest {

    private static final DataType MEMBERSHIP = DataTypes.ROW(
            DataTypes.FIELD("lesson_id", DataTypes.BIGINT()),
            DataTypes.FIELD("room_id", DataTypes.DECIMAL(20, 0)),
            DataTypes.FIELD("student_id", DataTypes.BIGINT()),
            DataTypes.FIELD("lookup_status", DataTypes.STRING()));

    private static WarehouseLookupFunction lookup(int... keyFields) {
        WarehouseLookupOptions options = new WarehouseLookupOptions(
                "http://127.0.0.1:8123", "flink", "", "dim.room_membership", "lesson_id",
                "lookup_status", 1000, 1, 60000, 10000, 100, 0, 500, 2);
        return new WarehouseLookupFunction(MEMBERSHIP, keyFields, options);
    }

    /** The decoded value of one parameter of the address's query string. */
    private static String parameter(URI uri, String name) {
        for (String pair : uri.getRawQuery().split("&")) {
            String[] parts = pair.split("=", 2);
            if (parts[0].equals(name)) {
                return URLDecoder.decode(parts[1], StandardCharsets.UTF_8);
            }
        }
        throw new AssertionError(name + " not in " + uri);
    }

    @Test
    void oneKeyColumnIsBoundAsAnArray() {
        WarehouseLookupFunction function = lookup(1);
        assertEquals("SELECT `lesson_id`, `room_id`, `student_id` FROM dim.room_membership "
                + "WHERE `room_id` IN {keys:Array(Int128)} "
                + "ORDER BY `lesson_id` DESC LIMIT 1 BY `room_id` FORMAT JSONEachRow",
                function.query());
        URI uri = function.uri(List.of(List.of("18446744073709551615"), List.of("7")));
        assertEquals("[18446744073709551615,7]", parameter(uri, "param_keys"));
        assertEquals("JSONEachRow", parameter(uri, "default_format"));
        assertEquals("http://127.0.0.1:8123/", uri.getScheme() + "://" + uri.getAuthority() + uri.getPath());
    }

    @Test
    void severalKeyColumnsAreBoundAsTuples() {
        WarehouseLookupFunction function = lookup(1, 2);
        assertEquals("SELECT `lesson_id`, `room_id`, `student_id` FROM dim.room_membership "
                + "WHERE (`room_id`, `student_id`) IN {keys:Array(Tuple(Int128, Int64))} "
                + "ORDER BY `lesson_id` DESC LIMIT 1 BY `room_id`, `student_id` FORMAT JSONEachRow",
                function.query());
        URI uri = function.uri(List.of(List.of("5", 10L), List.of("6", -3L)));
        assertEquals("[(5,10),(6,-3)]", parameter(uri, "param_keys"));
    }

    @Test
    void theQueryTextIsTheSameWhateverTheKeys() {
        WarehouseLookupFunction function = lookup(1, 2);
        String before = function.query();
        function.uri(List.of(List.of("99", 42L)));
        assertEquals(before, function.query());
        assertFalse(function.query().contains("99"));
    }

    @Test
    void typesOfKeysAsClickHouseParameters() {
        assertEquals("Int64", WarehouseLookupFunction.parameterType(DataTypes.BIGINT().getLogicalType()));
        assertEquals("Int32", WarehouseLookupFunction.parameterType(DataTypes.INT().getLogicalType()));
        assertEquals("Int128",
                WarehouseLookupFunction.parameterType(DataTypes.DECIMAL(20, 0).getLogicalType()));
        assertEquals("Decimal(10, 2)",
                WarehouseLookupFunction.parameterType(DataTypes.DECIMAL(10, 2).getLogicalType()));
    }
}
