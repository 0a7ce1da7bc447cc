package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The opt-in allocator setting reaches glibc, and out-of-range values are refused. */
class NativeMemoryTest {
  @Test
  void glibcAcceptsTheSettingAndRefusesWhatItCannotTake() {
    assertTrue(NativeMemory.keepFreedMemory(), "glibc's mallopt accepted the thresholds");
    // The core refuses what mallopt's int cannot hold, before calling it.
    assertFalse(
        io.github.adahessian4j.nativecore.ah4j.ah4j_malloc_keep_freed(1L << 40, 1L << 30, 0) == 1,
        "the core refuses a threshold above INT_MAX");
    assertEquals(
        "Invalid mmap threshold: 1099511627776 (expected 0 to 2147483647 bytes)",
        assertThrows(
                IllegalArgumentException.class, () -> NativeMemory.keepFreedMemory(1L << 40, 0, 0))
            .getMessage());
    assertEquals(
        "Invalid trim threshold: -1 (expected 0 to 2147483647 bytes)",
        assertThrows(IllegalArgumentException.class, () -> NativeMemory.keepFreedMemory(0, -1, 0))
            .getMessage());
    assertEquals(
        "Invalid top pad: 4294967296 (expected 0 to 2147483647 bytes)",
        assertThrows(
                IllegalArgumentException.class, () -> NativeMemory.keepFreedMemory(0, 0, 1L << 32))
            .getMessage());
    assertTrue(NativeMemory.keepFreedMemory(), "and the setting can be made again");
  }
}
