package io.classpulse.udf.format;

import static java.time.temporal.ChronoField.NANO_OF_SECOND;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.Month;
import java.time.Year;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.TemporalAccessor;
import java.time.temporal.TemporalQueries;

import org.apache.flink.table.data.TimestampData;

/**
 * The text of DATE, TIMESTAMP and TIMESTAMP_LTZ values exactly as Flink's json format writes
 * and reads them with its default {@code timestamp-format.standard = SQL}: {@code 2024-02-29},
 * {@code 2024-02-29 13:05:09.12} (fraction without trailing zeros, none when zero) and the same
 * with a trailing {@code Z} for TIMESTAMP_LTZ (UTC).
 *
 * <p>Why not {@link DateTimeFormatter}: a formatter per value was 9 % of every job's CPU. Years
 * 0000-9999 are written and read here with integer arithmetic on the epoch day; anything else
 * (other years, a text this fast path does not recognise) goes through the same formatters as
 * Flink's {@code TimeFormats}, so the result is Flink's in every case, including its errors.
 */
final class TimeText {

    static final long MILLIS_PER_DAY = 86_400_000L;

    /** Flink's TimeFormats.SQL_TIMESTAMP_FORMAT, ISO_LOCAL_DATE and the LTZ form ('Z' after it). */
    static final DateTimeFormatter DATE = DateTimeFormatter.ISO_LOCAL_DATE;
    static final DateTimeFormatter TIMESTAMP =
            new DateTimeFormatterBuilder()
                    .append(DateTimeFormatter.ISO_LOCAL_DATE)
                    .appendLiteral(' ')
                    .appendPattern("HH:mm:ss")
                    .appendFraction(NANO_OF_SECOND, 0, 9, true)
                    .toFormatter();
    static final DateTimeFormatter TIMESTAMP_LTZ =
            new DateTimeFormatterBuilder().append(TIMESTAMP).appendPattern("'Z'").toFormatter();

    /** The longest text written: date, time, 9 fraction digits and the zone. */
    static final int MAX_LENGTH = 30;

    private TimeText() {}

    /**
     * Writes {@code yyyy-MM-dd} of the epoch day into {@code out} from {@code at}; returns the
     * end, or -1 when the year is outside 0000-9999 (the caller then uses {@link #DATE}).
     */
    static int writeDate(int epochDay, byte[] out, int at) {
        // days since 0000-03-01 split into 400-year eras (H. Hinnant, "chrono-compatible
        // low-level date algorithms": civil_from_days)
        long z = epochDay + 719_468L;
        long era = Math.floorDiv(z, 146_097L);
        long dayOfEra = z - era * 146_097L;
        long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long monthIndex = (5 * dayOfYear + 2) / 153;
        int day = (int) (dayOfYear - (153 * monthIndex + 2) / 5 + 1);
        int month = (int) (monthIndex < 10 ? monthIndex + 3 : monthIndex - 9);
        long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        if (year < 0 || year > 9999) {
            return -1;
        }
        at = digits((int) year, 4, out, at);
        out[at++] = '-';
        at = digits(month, 2, out, at);
        out[at++] = '-';
        return digits(day, 2, out, at);
    }

    /**
     * Writes a timestamp (UTC wall clock of {@code epochMillis} plus {@code nanoOfMilli}) and
     * a trailing Z when {@code zoned}; returns the end, or -1 when the year is out of range.
     */
    static int writeTimestamp(long epochMillis, int nanoOfMilli, boolean zoned, byte[] out) {
        long epochDay = Math.floorDiv(epochMillis, MILLIS_PER_DAY);
        int millisOfDay = (int) Math.floorMod(epochMillis, MILLIS_PER_DAY);
        if (epochDay < Integer.MIN_VALUE || epochDay > Integer.MAX_VALUE) {
            return -1;
        }
        int at = writeDate((int) epochDay, out, 0);
        if (at < 0) {
            return -1;
        }
        int secondOfDay = millisOfDay / 1000;
        out[at++] = ' ';
        at = digits(secondOfDay / 3600, 2, out, at);
        out[at++] = ':';
        at = digits(secondOfDay / 60 % 60, 2, out, at);
        out[at++] = ':';
        at = digits(secondOfDay % 60, 2, out, at);
        int nanoOfSecond = millisOfDay % 1000 * 1_000_000 + nanoOfMilli;
        if (nanoOfSecond != 0) {
            out[at++] = '.';
            int end = digits(nanoOfSecond, 9, out, at);
            while (out[end - 1] == '0') {
                end--;
            }
            at = end;
        }
        if (zoned) {
            out[at++] = 'Z';
        }
        return at;
    }

    /** The text of a timestamp the fast path cannot write (a year beyond 0000-9999). */
    static String formatTimestamp(TimestampData value, boolean zoned) {
        return zoned
                ? TIMESTAMP_LTZ.format(value.toInstant().atOffset(ZoneOffset.UTC))
                : TIMESTAMP.format(value.toLocalDateTime());
    }

    private static int digits(int value, int width, byte[] out, int at) {
        for (int i = at + width - 1; i >= at; i--) {
            out[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        return at + width;
    }

    /** The epoch day of a DATE text, as Flink's json format reads it. */
    static int parseDate(char[] text, int offset, int length) {
        if (length == 10) {
            long day = dateAt(text, offset);
            if (day != Long.MIN_VALUE) {
                return (int) day;
            }
        }
        String slow = new String(text, offset, length);
        return (int) DATE.parse(slow).query(TemporalQueries.localDate()).toEpochDay();
    }

    /** A TIMESTAMP (or, {@code zoned}, TIMESTAMP_LTZ) text, as Flink's json format reads it. */
    static TimestampData parseTimestamp(char[] text, int offset, int length, boolean zoned) {
        TimestampData fast = fastTimestamp(text, offset, length, zoned);
        if (fast != null) {
            return fast;
        }
        String slow = new String(text, offset, length);
        TemporalAccessor parsed = (zoned ? TIMESTAMP_LTZ : TIMESTAMP).parse(slow);
        LocalDateTime local =
                LocalDateTime.of(
                        parsed.query(TemporalQueries.localDate()),
                        parsed.query(TemporalQueries.localTime()));
        return zoned
                ? TimestampData.fromInstant(local.toInstant(ZoneOffset.UTC))
                : TimestampData.fromLocalDateTime(local);
    }

    /** {@code yyyy-MM-dd HH:mm:ss[.f{1,9}][Z]} with valid fields, or null for the slow path. */
    private static TimestampData fastTimestamp(char[] text, int offset, int length, boolean zoned) {
        int end = offset + length - (zoned ? 1 : 0);
        if (length < 19 + (zoned ? 1 : 0) || (zoned && text[end] != 'Z')) {
            return null;
        }
        long day = dateAt(text, offset);
        int hour = number(text, offset + 11, 2);
        int minute = number(text, offset + 14, 2);
        int second = number(text, offset + 17, 2);
        if (day == Long.MIN_VALUE || text[offset + 10] != ' ' || text[offset + 13] != ':'
                || text[offset + 16] != ':' || hour < 0 || hour > 23 || minute < 0
                || minute > 59 || second < 0 || second > 59) {
            return null;
        }
        int nanoOfSecond = 0;
        int at = offset + 19;
        if (at < end) {
            int fraction = end - at - 1;
            if (text[at] != '.' || fraction < 1 || fraction > 9) {
                return null;
            }
            nanoOfSecond = number(text, at + 1, fraction);
            if (nanoOfSecond < 0) {
                return null;
            }
            for (int i = fraction; i < 9; i++) {
                nanoOfSecond *= 10;
            }
        }
        long millis = day * MILLIS_PER_DAY + (hour * 3600L + minute * 60L + second) * 1000L
                + nanoOfSecond / 1_000_000;
        return TimestampData.fromEpochMillis(millis, nanoOfSecond % 1_000_000);
    }

    /** The epoch day of a valid {@code yyyy-MM-dd} at {@code offset}, or Long.MIN_VALUE. */
    private static long dateAt(char[] text, int offset) {
        int year = number(text, offset, 4);
        int month = number(text, offset + 5, 2);
        int day = number(text, offset + 8, 2);
        if (year < 0 || month < 1 || month > 12 || day < 1 || text[offset + 4] != '-'
                || text[offset + 7] != '-' || day > Month.of(month).length(Year.isLeap(year))) {
            return Long.MIN_VALUE;
        }
        return LocalDate.of(year, month, day).toEpochDay();
    }

    /** The decimal digits text[at, at + width) as a number, or -1 if one is no digit. */
    private static int number(char[] text, int at, int width) {
        int value = 0;
        for (int i = at; i < at + width; i++) {
            char c = text[i];
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }
}
