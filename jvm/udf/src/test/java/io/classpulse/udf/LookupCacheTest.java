package io.classpulse.udf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Collection;
import java.util.Collections;
import java.util.List;

import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.junit.jupiter.api.Test;

class LookupCacheTest {

    private static final Collection<RowData> FOUND = List.of(GenericRowData.of(1L));
    private static final Collection<RowData> MISSING = Collections.emptyList();

    @Test
    void hitsAndMissesExpireOnTheirOwnClocks() {
        LookupCache cache = new LookupCache(10, 60_000, 10_000);
        cache.put(List.of(1L), FOUND, 0);
        cache.put(List.of(2L), MISSING, 0);
        assertEquals(FOUND, cache.get(List.of(1L), 59_999));
        assertEquals(MISSING, cache.get(List.of(2L), 9_999));
        assertNull(cache.get(List.of(2L), 10_000));
        assertNull(cache.get(List.of(1L), 60_000));
    }

    @Test
    void theLeastRecentlyUsedKeyIsEvicted() {
        LookupCache cache = new LookupCache(2, 60_000, 10_000);
        cache.put(List.of(1L), FOUND, 0);
        cache.put(List.of(2L), FOUND, 0);
        cache.get(List.of(1L), 1);
        cache.put(List.of(3L), FOUND, 2);
        assertEquals(2, cache.size());
        assertNull(cache.get(List.of(2L), 3));
        assertEquals(FOUND, cache.get(List.of(1L), 3));
    }
}
