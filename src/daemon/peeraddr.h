/* peeraddr.h - a connected socket's peer address as text, for the log
 * lines that name who was refused (accept.c's 503 at the descriptor limit,
 * tls.c's failed handshakes).
 */
#ifndef WSP_DAEMON_PEERADDR_H
#define WSP_DAEMON_PEERADDR_H

#include <stddef.h>

/* Writes fd's peer into buf (len bytes): the IPv4 or IPv6 address, or
 * unix_name for a peer on a unix socket.  Returns 0, or -1 with buf
 * untouched when fd has no peer (fd < 0, the peer already gone, not a
 * socket) or one of another family. */
int wsp__peer_text(int fd, char *buf, size_t len, const char *unix_name);

#endif
