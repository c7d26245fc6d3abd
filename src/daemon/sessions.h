/* sessions.h - the end of a logged-in socket's session: revocations and
 * expiry.
 *
 * Revocation: logout, a role change, a new password or a deleted user
 * NOTIFYs wsp_session 'revoke:<sid>:<reason>' (token.h); every socket of
 * that session is closed, 4403 for "roles", 4401 otherwise, and the sid is
 * kept in srv->revoked so the handshake refuses the cookie from then on.
 * After a (re)connect the revoked, unexpired sessions are read again; a
 * revocation notified while that re-read is in flight is kept, even when
 * its answer (an older snapshot) lacks it.
 * Expiry: every second, sockets whose session has expired are closed 4401
 * (where the namespace requires auth) and connection-token users at their
 * exp with WSP_CLOSE_TOKEN_EXPIRED (on every namespace).  In a namespace
 * open to anyone, a revoked or expired session's sockets are closed with
 * WSP_CLOSE_SESSION_ENDED instead: the client reconnects at once as
 * whoever its cookie says now (server.h).
 * Calls go down only (client.h, bus.h). */
#ifndef WSP_SESSIONS_H
#define WSP_SESSIONS_H

#include "daemon/server.h"

/* Start the 1-second expiry sweep.  0 or WSP_ERR_NOMEM. */
int wsp__sessions_start(wsp_server *srv);
/* A NOTIFY on WSP_SESSION_CHANNEL (outbox.h); anything but a well-formed
 * 'revoke:<sid>:<reason>' is ignored. */
void wsp__sessions_notify(wsp_server *srv, const char *payload);
/* The bus (re)connected: re-read the revoked sessions (a revocation sent
 * while it was down is not lost). */
void wsp__sessions_bus_up(wsp_server *srv);

#endif
