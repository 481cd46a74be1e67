package io.classpulse.udf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.apache.flink.types.Row;
import org.junit.jupiter.api.Test;

class LabelWindowTest {

    /** One union message: its kind sets the flags; client_time orders it. */
    private static final class Message {
        String role = "student";
        boolean presence;
        boolean leave;
        boolean enterAttempt;
        boolean enterFail;
        boolean enterSuccess;
        boolean enterSlow;
        String component;
        String media;
        long interval;
        long freeze;
        Boolean silent = false;
        long loss;
        long rtt;
        boolean device;
        boolean loadFail;
        boolean loadOk;
        boolean outOfSync;
        boolean drawFail;
        long client;

        Message(long client) {
            this.client = client;
        }

        void into(LabelWindow function, LabelWindow.Counts acc) {
            function.accumulate(
                    acc, role, presence, leave, enterAttempt, enterFail, enterSuccess, enterSlow,
                    component, media, interval, freeze, silent, loss, rtt, device, loadFail,
                    loadOk, outOfSync, drawFail, client, 0L, 0, "t/0", client);
        }
    }

    private static Message av(long client, String media, long interval, long freeze, long loss,
            long rtt) {
        Message message = new Message(client);
        message.presence = true;
        message.media = media;
        message.interval = interval;
        message.freeze = freeze;
        message.loss = loss;
        message.rtt = rtt;
        return message;
    }

    private static Row labels(List<Message> messages) {
        LabelWindow function = new LabelWindow();
        LabelWindow.Counts acc = function.createAccumulator();
        messages.forEach(message -> message.into(function, acc));
        return function.getValue(acc);
    }

    /** The same messages split over two local accumulators merged into a third. */
    private static Row mergedLabels(List<Message> messages) {
        LabelWindow function = new LabelWindow();
        LabelWindow.Counts first = function.createAccumulator();
        LabelWindow.Counts second = function.createAccumulator();
        for (int i = 0; i < messages.size(); i++) {
            messages.get(i).into(function, i % 2 == 0 ? first : second);
        }
        LabelWindow.Counts global = function.createAccumulator();
        function.merge(global, List.of(second, first));
        return function.getValue(global);
    }

    @Test
    void nothingButMessagesAndDefaults() {
        Message idle = new Message(1);
        Row row = labels(List.of(idle));
        assertEquals(Row.of("student", 1L, 0, 0L, 0, 0, "", 0, 0, 0, 0, "none", 0, 0, 0, 0), row);
    }

    @Test
    void stallsAtTheirBoundaryAndSilence() {
        // 5 * 200 >= 1000: a stall; 5 * 199 < 1000: none
        Row stalled = labels(List.of(av(1, "audio", 1000, 200, 0, 0), av(2, "video", 1000, 199, 0, 0)));
        assertEquals(1, stalled.getField(7));
        assertEquals(0, stalled.getField(8));
        Message silent = av(3, "audio", 1000, 0, 0, 0);
        silent.silent = true;
        assertEquals(1, labels(List.of(silent)).getField(9));
        assertEquals(0, labels(List.of(silent, av(4, "audio", 1000, 0, 0, 0))).getField(9));
    }

    @Test
    void netQualityThresholds() {
        assertEquals("bad", labels(List.of(av(1, "audio", 1, 0, 10, 0))).getField(11));
        assertEquals("bad", labels(List.of(av(1, "audio", 1, 0, 0, 600))).getField(11));
        assertEquals("poor", labels(List.of(av(1, "audio", 1, 0, 9, 599))).getField(11));
        assertEquals("poor", labels(List.of(av(1, "video", 1, 0, 3, 0))).getField(11));
        assertEquals("good", labels(List.of(av(1, "video", 1, 0, 2, 299), av(2, "audio", 1, 0, 3, 300))).getField(11));
    }

    @Test
    void latestPicksDecidePresenceEnterAndLoad() {
        Message leave = new Message(5);
        leave.leave = true;
        Message enter = new Message(4);
        enter.presence = true;
        enter.enterAttempt = true;
        enter.enterSuccess = true;
        Message fail = new Message(2);
        fail.enterAttempt = true;
        fail.enterFail = true;
        fail.component = "camera";
        Message laterFail = new Message(3);
        laterFail.enterAttempt = true;
        laterFail.enterFail = true;
        laterFail.component = "mic";
        laterFail.role = "teacher";
        Message loadFail = new Message(6);
        loadFail.loadFail = true;
        Message loadOk = new Message(1);
        loadOk.loadOk = true;
        List<Message> messages = List.of(enter, leave, laterFail, fail, loadFail, loadOk);
        Row row = labels(messages);
        assertEquals("student", row.getField(0));  // the leave, latest, is a student's
        assertEquals(0, row.getField(2));  // the latest presence-or-leave is the leave
        assertEquals(3L, row.getField(3));
        assertEquals(0, row.getField(4));  // a success among the attempts
        assertEquals("mic", row.getField(6));
        assertEquals(1, row.getField(13));  // the latest load failed
        assertEquals(row, mergedLabels(messages));
    }

    @Test
    void mergeEqualsOneAccumulator() {
        Message device = new Message(7);
        device.device = true;
        Message sync = new Message(8);
        sync.outOfSync = true;
        Message draw = new Message(9);
        draw.drawFail = true;
        Message slow = new Message(10);
        slow.enterAttempt = true;
        slow.enterFail = true;
        slow.enterSlow = true;
        List<Message> messages = List.of(
                av(1, "audio", 1000, 300, 5, 100), av(2, "video", 1000, 0, 1, 50), device, sync,
                draw, slow);
        Row row = labels(messages);
        assertEquals(Row.of("student", 6L, 1, 1L, 1, 1, "", 1, 0, 0, 0, "poor", 1, 0, 1, 1), row);
        assertEquals(row, mergedLabels(messages));
    }
}
