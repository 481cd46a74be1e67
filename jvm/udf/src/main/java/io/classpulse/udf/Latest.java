package io.classpulse.udf;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.AggregateFunction;

/**
 * {@code latest(value, client_time, server_time, topic_rank, source_split, source_offset)}: the
 * value of the latest message, where "latest" is the greatest (client_time, server_time,
 * topic_rank, source_split, source_offset), compared in that order (source_split as text, NULL
 * offsets as 0); NULL when no message was aggregated.
 *
 * <p>room_user_labels_30s's "latest" (LIVE_CLASSROOM_CONTRACT.md A.3: greatest client_time,
 * then server_time, then the later message: topic in A.1 order, then place in it). The rules
 * that read it (the latest role, whether the latest presence or leave is a presence) stay in
 * SQL; this replaces a padded text sort key built for every message by numbers compared in
 * place, and keeps one message's fields per group instead of one key per rule.
 */
public class Latest extends AggregateFunction<String, Latest.Pick> {

    /** The latest message so far: its order and its value. */
    public static class Pick {
        public boolean seen = false;
        public long clientTime;
        public long serverTime;
        public int topicRank;
        public String split;
        public long offset;
        public String value;

        /** Whether a message of this order comes after the one kept (ties keep the kept one). */
        boolean isBefore(long client, long server, int rank, String otherSplit, long position) {
            if (!seen) {
                return true;
            }
            if (clientTime != client) {
                return clientTime < client;
            }
            if (serverTime != server) {
                return serverTime < server;
            }
            if (topicRank != rank) {
                return topicRank < rank;
            }
            int bySplit = compareSplits(split, otherSplit);
            if (bySplit != 0) {
                return bySplit < 0;
            }
            return offset < position;
        }

        void keep(long client, long server, int rank, String otherSplit, long position, String v) {
            seen = true;
            clientTime = client;
            serverTime = server;
            topicRank = rank;
            split = otherSplit;
            offset = position;
            value = v;
        }
    }

    /** Text order of the splits as the SQL compares strings (by code point); NULL first. */
    static int compareSplits(String left, String right) {
        if (left == null || right == null) {
            return left == null ? (right == null ? 0 : -1) : 1;
        }
        return left.compareTo(right);
    }

    @Override
    public Pick createAccumulator() {
        return new Pick();
    }

    public void accumulate(
            Pick acc,
            String value,
            @DataTypeHint("BIGINT") Long clientTime,
            @DataTypeHint("BIGINT") Long serverTime,
            @DataTypeHint("INT") Integer topicRank,
            String split,
            @DataTypeHint("BIGINT") Long offset) {
        long client = clientTime == null ? Long.MIN_VALUE : clientTime;
        long server = serverTime == null ? Long.MIN_VALUE : serverTime;
        int rank = topicRank == null ? Integer.MIN_VALUE : topicRank;
        long position = offset == null ? 0L : offset;
        if (acc.isBefore(client, server, rank, split, position)) {
            acc.keep(client, server, rank, split, position, value);
        }
    }

    public void merge(Pick acc, Iterable<Pick> others) {
        for (Pick other : others) {
            if (other.seen
                    && acc.isBefore(
                            other.clientTime,
                            other.serverTime,
                            other.topicRank,
                            other.split,
                            other.offset)) {
                acc.keep(
                        other.clientTime,
                        other.serverTime,
                        other.topicRank,
                        other.split,
                        other.offset,
                        other.value);
            }
        }
    }

    @Override
    public String getValue(Pick acc) {
        return acc.seen ? acc.value : null;
    }
}
