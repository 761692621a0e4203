/*
 * frame_packet_peer: an evil peer on a SOCK_SEQPACKET or SOCK_DGRAM socketpair, one
 * datagram per segment (input layout: peer.h). Well-formed datagrams must come back intact
 * and in order; a truncated or mislabelled one is rejected and its descriptors closed (an
 * empty SOCK_SEQPACKET datagram without descriptors reads as end of file: FORMAT.md).
 */
#include "fuzz_common.h"
#include "peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return peer_run("frame_packet_peer", 1, data, size);
}
