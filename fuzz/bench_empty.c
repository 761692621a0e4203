/* bench_empty: the libFuzzer baseline for ci/fuzz --bench (does nothing). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}
