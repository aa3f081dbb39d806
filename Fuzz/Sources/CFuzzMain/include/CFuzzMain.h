// Starts libFuzzer from a Swift executable's entry point.
//
// SwiftPM renames the entry point of an executable target to `<target>_main` (and links
// `main` to it), so libFuzzer's own `main` is not the one that runs. Each harness defines
// `<target>_main` with @_cdecl and calls this, which hands over to libFuzzer's driver.
#ifndef SEXTANT_FUZZ_MAIN_H
#define SEXTANT_FUZZ_MAIN_H

#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver (compiler-rt, FuzzerInterface.h).
int LLVMFuzzerRunDriver(int *_Nonnull argc, char *_Nullable *_Nonnull *_Nonnull argv,
                        int (*_Nonnull test)(const uint8_t *_Nonnull data, size_t size));

static inline int sextant_run_libfuzzer(int argc, char *_Nullable *_Nonnull argv,
                                        int (*_Nonnull test)(const uint8_t *_Nonnull data, size_t size)) {
    return LLVMFuzzerRunDriver(&argc, &argv, test);
}

#endif
