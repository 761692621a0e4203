/* The shape every frame_next_batch / frame_decoder_next_batch result must have: at most max
 * messages, and descriptors only on the last one. Shared by frame_decode and the peers. */
#ifndef FUZZ_BATCH_CHECK_H
#define FUZZ_BATCH_CHECK_H

#include "frame.h"
#include "fuzz_common.h"

/* Returns rc, the call's result, once its batch passed; aborts through fz_fail otherwise. */
static inline int fz_check_batch(const char *target, const char *call, const struct frame_msg *msgs,
                                 int rc, int max)
{
    if (rc > max)
        fz_fail(target, "%s returned %d messages for at most %d", call, rc, max);
    for (int i = 0; i + 1 < rc; i++)
        if (msgs[i].nfds)
            fz_fail(target, "%s: message %d of a batch of %d carries descriptors", call, i, rc);
    return rc;
}

#endif
