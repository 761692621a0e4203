/*
 * An evil peer on a real socketpair: the input's segments are written with real
 * descriptors attached, the other end receives through frame_chan. Shared by
 * frame_stream_peer (SOCK_STREAM) and frame_packet_peer (SOCK_SEQPACKET, SOCK_DGRAM).
 *
 * Input: [config] then segments [hdr][len, or 255 and a 16-bit length][bytes]:
 *   config  bits 0-1 max_fds {0, 1, 4, 16}, bits 2-4 max_payload, bit 5 close_fd_on_fini,
 *           bit 6 receive only after the last segment, bit 7 SOCK_DGRAM (packet target) or
 *           take messages with frame_next_batch, 4 per call (stream target)
 *   hdr     bits 0-2 descriptors attached, bits 3-4 their kind (pipe read end, pipe write
 *           end, /dev/null, socket), bit 5 shutdown(SHUT_WR) after this segment and stop
 * On a stream a segment may go out in several writes (descriptors with the first); on a
 * packet socket it is one datagram.
 */
#ifndef FUZZ_PEER_H
#define FUZZ_PEER_H

#include <stddef.h>
#include <stdint.h>

int peer_run(const char *target, int packet, const uint8_t *data, size_t size);

#endif
