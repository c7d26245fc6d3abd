/* notify.h - readiness notification to systemd (the sd_notify protocol).
 *
 * A service started with Type=notify finds the path of a datagram socket in
 * $NOTIFY_SOCKET (a file path, or "@name" for the abstract namespace) and
 * sends newline-separated assignments to it: "READY=1" once it serves,
 * "STOPPING=1" when it begins to stop, "STATUS=..." for `systemctl status`.
 * The protocol is stable and documented in sd_notify(3); these thirty lines
 * spare both programs a link-time dependency on libsystemd.
 *
 * systemd accepts the message only from the service's main process
 * (NotifyAccess=main): with workers, the supervisor sends it (supervisor.h).
 */
#ifndef WSP_NOTIFY_H
#define WSP_NOTIFY_H

#include "error.h"

/* Send `state` (e.g. "READY=1\nSTATUS=listening") to $NOTIFY_SOCKET.
 * Returns 0 when sent, 1 when NOTIFY_SOCKET is unset (not run by systemd:
 * nothing to do), or WSP_ERR_INVALID (a malformed path) / WSP_ERR_IO (the
 * send failed) with the reason in err. */
int wsp_notify(const char *state, wsp_error *err);

#endif
