/* frame_stream_peer: an evil peer on a SOCK_STREAM socketpair (input layout: peer.h). */
#include "fuzz_common.h"
#include "peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return peer_run("frame_stream_peer", 0, data, size);
}
