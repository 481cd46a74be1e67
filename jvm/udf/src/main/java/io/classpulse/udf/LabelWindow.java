package io.classpulse.udf;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.types.Row;

/**
 * {@code label_window(role, is_presence, is_leave, is_enter_attempt, is_enter_fail,
 * is_enter_success, is_enter_slow, failed_component, media, interval_ms, freeze_ms, is_silent,
 * loss_pct, rtt_ms, is_device_abnormal, is_load_fail, is_load_ok, is_out_of_sync, is_draw_fail,
 * client_time, server_time, topic_rank, source_split, source_offset)}: one user-window's label
 * columns (LIVE_CLASSROOM_CONTRACT.md A.3) from the messages of room_user_labels_30s's union.
 *
 * <p>The rules were ~25 filtered SQL aggregates and four {@link Latest} calls per message, each
 * call converting its six arguments; here one call per message feeds one accumulator of counts,
 * sums and the four "latest" picks (role; presence or leave; the enter failure's component;
 * load failure or success), compared in {@link Latest}'s order. merge() lets the planner keep
 * its local/global (two-phase) window aggregation. A NULL flag counts as false, as a SQL FILTER
 * on a NULL condition does.
 */
@FunctionHint(
        output =
                @DataTypeHint(
                        "ROW<`role` STRING, messages BIGINT, in_room INT, enter_attempts BIGINT,"
                                + " enter_fail INT, enter_slow INT, enter_fail_component STRING,"
                                + " audio_stall INT, video_stall INT, cannot_hear INT,"
                                + " cannot_see INT, net_quality STRING, device_abnormal INT,"
                                + " courseware_load_fail INT, courseware_out_of_sync INT,"
                                + " cannot_draw INT>"))
public class LabelWindow extends AggregateFunction<Row, LabelWindow.Counts> {

    /** What the rules need of a user-window's messages so far. */
    public static class Counts {
        public long messages;
        public Latest.Pick role = new Latest.Pick();
        /** The latest presence or leave: its value is "presence" or "leave". */
        public Latest.Pick presence = new Latest.Pick();
        public long enterAttempts;
        public long enterFails;
        public long enterSuccesses;
        public long enterSlows;
        /** The latest failed enter: its value is the failed component. */
        public Latest.Pick enterFail = new Latest.Pick();
        public Media audio = new Media();
        public Media video = new Media();
        public long lossPct;
        public long rttMs;
        public long deviceAbnormal;
        /** The latest load: its value is "fail" or "ok". */
        public Latest.Pick load = new Latest.Pick();
        public long outOfSync;
        public long drawFails;
    }

    /** The samples of one medium: how many, how many not silent, frozen and covered time. */
    public static class Media {
        public long samples;
        public long audible;
        public long freezeMs;
        public long intervalMs;

        void add(Media other) {
            samples += other.samples;
            audible += other.audible;
            freezeMs += other.freezeMs;
            intervalMs += other.intervalMs;
        }

        /** >= 20 % of the covered span frozen, in integers: 5 * sum(freeze) >= sum(interval). */
        int stall() {
            return samples > 0 && 5 * freezeMs >= intervalMs ? 1 : 0;
        }

        /** Samples, none of them known to be audible (is_silent false). */
        int silent() {
            return samples > 0 && audible == 0 ? 1 : 0;
        }
    }

    @Override
    public Counts createAccumulator() {
        return new Counts();
    }

    public void accumulate(
            Counts acc,
            String role,
            Boolean isPresence,
            Boolean isLeave,
            Boolean isEnterAttempt,
            Boolean isEnterFail,
            Boolean isEnterSuccess,
            Boolean isEnterSlow,
            String failedComponent,
            String media,
            @DataTypeHint("BIGINT") Long intervalMs,
            @DataTypeHint("BIGINT") Long freezeMs,
            Boolean isSilent,
            @DataTypeHint("BIGINT") Long lossPct,
            @DataTypeHint("BIGINT") Long rttMs,
            Boolean isDeviceAbnormal,
            Boolean isLoadFail,
            Boolean isLoadOk,
            Boolean isOutOfSync,
            Boolean isDrawFail,
            @DataTypeHint("BIGINT") Long clientTime,
            @DataTypeHint("BIGINT") Long serverTime,
            @DataTypeHint("INT") Integer topicRank,
            String split,
            @DataTypeHint("BIGINT") Long offset) {
        long client = clientTime == null ? Long.MIN_VALUE : clientTime;
        long server = serverTime == null ? Long.MIN_VALUE : serverTime;
        int rank = topicRank == null ? Integer.MIN_VALUE : topicRank;
        long position = offset == null ? 0L : offset;
        acc.messages++;
        pick(acc.role, role, client, server, rank, split, position);
        if (holds(isPresence) || holds(isLeave)) {
            pick(acc.presence, holds(isPresence) ? "presence" : "leave",
                    client, server, rank, split, position);
        }
        acc.enterAttempts += count(isEnterAttempt);
        acc.enterSuccesses += count(isEnterSuccess);
        acc.enterSlows += count(isEnterSlow);
        if (holds(isEnterFail)) {
            acc.enterFails++;
            pick(acc.enterFail, failedComponent, client, server, rank, split, position);
        }
        Media medium = "audio".equals(media) ? acc.audio : "video".equals(media) ? acc.video : null;
        if (medium != null) {
            medium.samples++;
            medium.audible += isSilent != null && !isSilent ? 1 : 0;
            medium.freezeMs += valueOf(freezeMs);
            medium.intervalMs += valueOf(intervalMs);
        }
        acc.lossPct += valueOf(lossPct);
        acc.rttMs += valueOf(rttMs);
        acc.deviceAbnormal += count(isDeviceAbnormal);
        if (holds(isLoadFail) || holds(isLoadOk)) {
            pick(acc.load, holds(isLoadFail) ? "fail" : "ok", client, server, rank, split, position);
        }
        acc.outOfSync += count(isOutOfSync);
        acc.drawFails += count(isDrawFail);
    }

    public void merge(Counts acc, Iterable<Counts> others) {
        for (Counts other : others) {
            acc.messages += other.messages;
            mergePick(acc.role, other.role);
            mergePick(acc.presence, other.presence);
            acc.enterAttempts += other.enterAttempts;
            acc.enterFails += other.enterFails;
            acc.enterSuccesses += other.enterSuccesses;
            acc.enterSlows += other.enterSlows;
            mergePick(acc.enterFail, other.enterFail);
            acc.audio.add(other.audio);
            acc.video.add(other.video);
            acc.lossPct += other.lossPct;
            acc.rttMs += other.rttMs;
            acc.deviceAbnormal += other.deviceAbnormal;
            mergePick(acc.load, other.load);
            acc.outOfSync += other.outOfSync;
            acc.drawFails += other.drawFails;
        }
    }

    @Override
    public Row getValue(Counts acc) {
        String failedComponent = acc.enterFail.seen ? acc.enterFail.value : null;
        return Row.of(
                acc.role.seen ? acc.role.value : null,
                acc.messages,
                acc.presence.seen && "presence".equals(acc.presence.value) ? 1 : 0,
                acc.enterAttempts,
                acc.enterFails > 0 && acc.enterSuccesses == 0 ? 1 : 0,
                acc.enterSlows > 0 ? 1 : 0,
                failedComponent == null ? "" : failedComponent,
                acc.audio.stall(),
                acc.video.stall(),
                acc.audio.silent(),
                acc.video.silent(),
                netQuality(acc),
                acc.deviceAbnormal > 0 ? 1 : 0,
                acc.load.seen && "fail".equals(acc.load.value) ? 1 : 0,
                acc.outOfSync > 0 ? 1 : 0,
                acc.drawFails > 0 ? 1 : 0);
    }

    /** n av samples, L = sum(loss_pct), R = sum(rtt_ms) (every message adds, non-av ones 0). */
    static String netQuality(Counts acc) {
        long n = acc.audio.samples + acc.video.samples;
        if (n == 0) {
            return "none";
        }
        if (acc.lossPct >= 10 * n || acc.rttMs >= 600 * n) {
            return "bad";
        }
        if (acc.lossPct >= 3 * n || acc.rttMs >= 300 * n) {
            return "poor";
        }
        return "good";
    }

    private static void pick(
            Latest.Pick kept, String value, long client, long server, int rank, String split,
            long position) {
        if (kept.isBefore(client, server, rank, split, position)) {
            kept.keep(client, server, rank, split, position, value);
        }
    }

    private static void mergePick(Latest.Pick kept, Latest.Pick other) {
        if (other.seen) {
            pick(kept, other.value, other.clientTime, other.serverTime, other.topicRank,
                    other.split, other.offset);
        }
    }

    private static boolean holds(Boolean flag) {
        return flag != null && flag;
    }

    private static int count(Boolean flag) {
        return holds(flag) ? 1 : 0;
    }

    private static long valueOf(Long number) {
        return number == null ? 0L : number;
    }
}
