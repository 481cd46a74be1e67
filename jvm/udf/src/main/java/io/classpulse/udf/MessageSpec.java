package io.classpulse.udf;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.types.DataType;

/**
 * The fields a cleaning job reads from one topic's messages, written in the job's SQL as a
 * string literal, one entry per output column, like a column list of a CREATE TABLE:
 *
 * <pre>
 *   create_time  BIGINT    createTime       NOT NULL,
 *   user_id      BIGINT    data.userid      NOT NULL,
 *   target_id    STRING    data.msg.msg_data.target_id
 * </pre>
 *
 * <p>{@code name TYPE path [NOT NULL]}: the output column, its type, the field's path in the
 * message (object keys joined by dots) and whether the field is required. Types:
 *
 * <ul>
 *   <li>{@code STRING}: any JSON scalar as text (a string's content, a number as written,
 *       {@code true} / {@code false});
 *   <li>{@code ID}: a JSON string or a JSON integer (as written): {@code "42"} and {@code 42}
 *       are the same id;
 *   <li>{@code BIGINT}, {@code INT}: a JSON integer or a string of digits ({@code -?[0-9]+})
 *       that fits the type; {@code 1.5}, {@code 1e3}, {@code " 1"}, {@code "+1"} do not;
 *   <li>{@code UBIGINT}: an unsigned 64-bit integer (a room id), a JSON integer or a string of
 *       digits ({@code [0-9]+}) from 0 to 18446744073709551615; output as DECIMAL(20, 0);
 *   <li>{@code BIGINT_ARRAY}: a JSON array (possibly empty) whose every element a BIGINT takes;
 *       output as ARRAY&lt;BIGINT&gt;;
 *   <li>{@code DATETIME}: a string {@code YYYY-MM-DD HH:MM:SS} naming a real moment of the
 *       proleptic Gregorian calendar (years 0001-9999, seconds 00-59); output as that string;
 *   <li>{@code PRESENT}: whether the field holds a value (anything but absent or JSON null), as a
 *       BOOLEAN (NULL only in the row of a malformed message or one missing a required field);
 *       it never makes a message a wrong type. It may read the path another field reads.
 * </ul>
 *
 * <p>The row of a {@code wrong_type} message keeps the values that converted (NULL where the
 * type failed) and every PRESENT, so a job can rank a rule that depends on them (a field
 * required only when another has some value) above the wrong type. A malformed message or one
 * missing a required field has every column NULL but the reason.
 *
 * <ul>
 * </ul>
 */
public final class MessageSpec {

    /** What a field holds and how it is typed. */
    public enum FieldType {
        STRING(DataTypes.STRING()),
        ID(DataTypes.STRING()),
        BIGINT(DataTypes.BIGINT()),
        UBIGINT(DataTypes.DECIMAL(20, 0)),
        BIGINT_ARRAY(DataTypes.ARRAY(DataTypes.BIGINT())),
        INT(DataTypes.INT()),
        DATETIME(DataTypes.STRING()),
        PRESENT(DataTypes.BOOLEAN());

        final DataType outputType;

        FieldType(DataType outputType) {
            this.outputType = outputType;
        }
    }

    /** One output column. */
    public static final class Field {
        public final String name;
        public final FieldType type;
        public final List<String> path;
        public final boolean required;
        /** A PRESENT field reading the path of another field: that field's slot, else -1. */
        int twin = -1;

        Field(String name, FieldType type, List<String> path, boolean required) {
            this.name = name;
            this.type = type;
            this.path = path;
            this.required = required;
        }
    }

    /**
     * A node of the key tree: the children of an object key, or (a leaf) the slot of a field.
     * {@code slots} are the slots of every field at or below the node, so a repeated key (the
     * last occurrence wins) can forget what an earlier occurrence set.
     */
    static final class Node {
        final Map<String, Node> children = new HashMap<>();
        int slot = -1;
        int[] slots = new int[0];

        boolean isLeaf() {
            return slot >= 0;
        }
    }

    public static final String REASON_COLUMN = "reason";

    final List<Field> fields;
    final Node root;

    private MessageSpec(List<Field> fields, Node root) {
        this.fields = fields;
        this.root = root;
    }

    public List<Field> fields() {
        return Collections.unmodifiableList(fields);
    }

    /** ROW&lt;reason STRING, one column per field&gt;. */
    public DataType outputType() {
        List<DataTypes.Field> columns = new ArrayList<>();
        columns.add(DataTypes.FIELD(REASON_COLUMN, DataTypes.STRING()));
        for (Field field : fields) {
            columns.add(DataTypes.FIELD(field.name, field.type.outputType));
        }
        return DataTypes.ROW(columns);
    }

    /** Parses a spec; an error names the entry at fault. */
    public static MessageSpec parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("the field spec is empty");
        }
        List<Field> fields = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        Set<String> paths = new LinkedHashSet<>();
        for (String entry : text.split(",", -1)) {
            String[] words = entry.trim().split("\\s+");
            if (words.length == 1 && words[0].isEmpty()) {
                throw new IllegalArgumentException("empty entry in the field spec (a stray comma?)");
            }
            boolean required = false;
            if (words.length == 5
                    && words[3].equalsIgnoreCase("NOT")
                    && words[4].equalsIgnoreCase("NULL")) {
                required = true;
            } else if (words.length != 3) {
                throw new IllegalArgumentException(
                        "expected 'name TYPE path [NOT NULL]', got '" + entry.trim() + "'");
            }
            String name = words[0];
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw new IllegalArgumentException("bad column name '" + name + "'");
            }
            if (name.equalsIgnoreCase(REASON_COLUMN) || !names.add(name.toLowerCase())) {
                throw new IllegalArgumentException("column '" + name + "' is taken");
            }
            FieldType type;
            try {
                type = FieldType.valueOf(words[1].toUpperCase());
            } catch (IllegalArgumentException unknown) {
                throw new IllegalArgumentException(
                        "unknown type '" + words[1] + "' of '" + name
                                + "' (STRING, ID, BIGINT, UBIGINT, BIGINT_ARRAY, INT, DATETIME,"
                                + " PRESENT)");
            }
            String path = words[2];
            List<String> keys = List.of(path.split("\\.", -1));
            if (keys.stream().anyMatch(String::isEmpty)) {
                throw new IllegalArgumentException("bad path '" + path + "' of '" + name + "'");
            }
            if (type == FieldType.PRESENT && required) {
                throw new IllegalArgumentException(
                        "'" + name + "' is PRESENT: it is never NULL, NOT NULL does not apply");
            }
            Field field = new Field(name, type, keys, required);
            if (!paths.add(path)) {
                // a path is read once, plus at most once by a PRESENT field
                int other = -1;
                for (int slot = 0; slot < fields.size(); slot++) {
                    if (String.join(".", fields.get(slot).path).equals(path)) {
                        other = slot;
                    }
                }
                Field earlier = fields.get(other);
                boolean onePresent =
                        (type == FieldType.PRESENT) != (earlier.type == FieldType.PRESENT);
                if (!onePresent || earlier.twin >= 0 || !paths.add(path + "\0present")) {
                    throw new IllegalArgumentException("path '" + path + "' is read twice");
                }
                if (type == FieldType.PRESENT) {
                    field.twin = other;
                } else { // the PRESENT field came first: it reads this one's value
                    earlier.twin = fields.size();
                }
            }
            fields.add(field);
        }
        return new MessageSpec(fields, buildTree(fields));
    }

    private static Node buildTree(List<Field> fields) {
        Node root = new Node();
        for (int slot = 0; slot < fields.size(); slot++) {
            Field field = fields.get(slot);
            if (field.type == FieldType.PRESENT && field.twin >= 0) {
                continue; // reads what its twin reads
            }
            Node node = root;
            for (String key : field.path) {
                if (node.isLeaf()) {
                    throw new IllegalArgumentException(
                            "path '" + String.join(".", field.path) + "' is inside another field");
                }
                node = node.children.computeIfAbsent(key, k -> new Node());
            }
            if (node.isLeaf() || !node.children.isEmpty()) {
                throw new IllegalArgumentException(
                        "path '" + String.join(".", field.path) + "' overlaps another field");
            }
            node.slot = slot;
        }
        collectSlots(root);
        return root;
    }

    private static int[] collectSlots(Node node) {
        if (node.isLeaf()) {
            node.slots = new int[] {node.slot};
            return node.slots;
        }
        List<Integer> below = new ArrayList<>();
        for (Node child : node.children.values()) {
            for (int slot : collectSlots(child)) {
                below.add(slot);
            }
        }
        node.slots = below.stream().mapToInt(Integer::intValue).toArray();
        return node.slots;
    }
}
