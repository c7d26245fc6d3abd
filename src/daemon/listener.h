/* listener.h - the process's listening socket (TCP HOST:PORT or
 * unix:PATH), non-blocking.
 *
 * lws never listens in wspulsed: a supervisor opens this socket once and
 * its workers inherit it across fork() (supervisor.h); a daemon without
 * workers opens it the same way itself (wsp_listen_open); either way the
 * process accepts on it through accept.h.  One socket per process. */
#ifndef WSP_LISTENER_H
#define WSP_LISTENER_H

#include "conf.h"
#include "error.h"

/* Open and listen on `addr` (HOST:PORT, [V6]:PORT, or unix:PATH, an old
 * socket file there removed).  The descriptor, or a negative WSP_ERR_*
 * with err naming the address and why. */
int wsp__listener_open(const char *addr, wsp_error *err);
/* A daemon without workers: open cfg->listen as this process's socket.
 * 0 or a negative WSP_ERR_*. */
int wsp_listen_open(const wsp_config *cfg, wsp_error *err);
/* This process's listening descriptor, -1 before it is opened or after
 * wsp__listener_close. */
int wsp_worker_listen_fd(void);
/* Make fd this process's listening descriptor (the supervisor's). */
void wsp__listener_set(int fd);
/* Close this process's descriptor (idempotent); when listen_addr is a
 * unix: address, also remove its socket file (the supervisor at exit). */
void wsp__listener_close(const char *listen_addr);

#endif
