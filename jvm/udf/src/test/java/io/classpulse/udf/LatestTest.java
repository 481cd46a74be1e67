package io.classpulse.udf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;

class LatestTest {

    /** One message: value, client_time, server_time, topic_rank, split, offset. */
    private static final class Message {
        final String value;
        final long client;
        final long server;
        final int rank;
        final String split;
        final long offset;

        Message(String value, long client, long server, int rank, String split, long offset) {
            this.value = value;
            this.client = client;
            this.server = server;
            this.rank = rank;
            this.split = split;
            this.offset = offset;
        }
    }

    private static Latest.Pick accumulate(List<Message> messages) {
        Latest function = new Latest();
        Latest.Pick acc = function.createAccumulator();
        for (Message message : messages) {
            function.accumulate(
                    acc, message.value, message.client, message.server, message.rank,
                    message.split, message.offset);
        }
        return acc;
    }

    private static String latest(Message... messages) {
        return new Latest().getValue(accumulate(List.of(messages)));
    }

    @Test
    void nothingGivesNull() {
        assertNull(latest());
    }

    @Test
    void eachPartOfTheOrderDecidesInTurn() {
        assertEquals("b", latest(new Message("b", 2, 0, 0, "a/0", 0), new Message("a", 1, 9, 9, "z/9", 9)));
        assertEquals("b", latest(new Message("a", 1, 1, 9, "z/9", 9), new Message("b", 1, 2, 0, "a/0", 0)));
        assertEquals("b", latest(new Message("b", 1, 1, 3, "a/0", 0), new Message("a", 1, 1, 2, "z/9", 9)));
        // splits compare as text: "t/10" sorts before "t/9"
        assertEquals("b", latest(new Message("a", 1, 1, 1, "t/10", 9), new Message("b", 1, 1, 1, "t/9", 0)));
        assertEquals("b", latest(new Message("b", 1, 1, 1, "t/1", 8), new Message("a", 1, 1, 1, "t/1", 7)));
    }

    @Test
    void negativeTimesOrderAsNumbers() {
        assertEquals("b", latest(new Message("a", -5, 0, 0, "t/0", 0), new Message("b", -1, 0, 0, "t/0", 1)));
    }

    @Test
    void nullOffsetsCountAsZero() {
        Latest function = new Latest();
        Latest.Pick acc = function.createAccumulator();
        function.accumulate(acc, "a", 1L, 1L, 0, "t/0", 1L);
        function.accumulate(acc, "b", 1L, 1L, 0, "t/0", null);
        assertEquals("a", function.getValue(acc));
    }

    @Test
    void mergingPartsGivesWhatOnePassGives() {
        List<Message> messages = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            messages.add(new Message("m" + i, i % 7, i % 3, i % 4, "t/" + (i % 11), i));
        }
        String whole = new Latest().getValue(accumulate(messages));
        Collections.reverse(messages);
        Latest function = new Latest();
        Latest.Pick acc = accumulate(messages.subList(0, 13));
        function.merge(acc, List.of(accumulate(messages.subList(13, 30)), function.createAccumulator(),
                accumulate(messages.subList(30, 40))));
        assertEquals(whole, function.getValue(acc));
        assertEquals("m20", whole); // client_time 6: i = 6, 13, 20, 27, 34; server_time 2: i = 20
    }
}
