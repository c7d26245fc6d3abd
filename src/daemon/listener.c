/* listener.c - see listener.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/listener.h"

static int listen_fd = -1;       /* this process's listening socket */

int wsp_worker_listen_fd(void) { return listen_fd; }

void wsp__listener_set(int fd)
{
	listen_fd = fd;
}

void wsp__listener_close(const char *listen_addr)
{
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
	if (listen_addr && strncmp(listen_addr, "unix:", 5) == 0)
		unlink(listen_addr + 5);
}

int wsp__listener_open(const char *listen_addr, wsp_error *err)
{
	int fd, one = 1;

	if (strncmp(listen_addr, "unix:", 5) == 0) {
		struct sockaddr_un sun;
		const char *p = listen_addr + 5;

		if (strlen(p) >= sizeof(sun.sun_path))
			return wsp_error_set(err, WSP_ERR_INVALID, "unix socket path too long: %s", p);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, p, strlen(p) + 1);
		unlink(p);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
		    listen(fd, SOMAXCONN) < 0) {
			if (fd >= 0)
				close(fd);
			return wsp_error_set(err, WSP_ERR_IO, "cannot listen on %s: %s", listen_addr,
					     strerror(errno));
		}
	} else {
		char host[256], *colon, port[16];
		struct addrinfo hints, *ai = NULL;
		int rc;

		snprintf(host, sizeof(host), "%s", listen_addr);
		colon = strrchr(host, ':');
		if (!colon || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535)
			return wsp_error_set(err, WSP_ERR_INVALID,
					     "listen must be HOST:PORT or unix:PATH, not '%s'", listen_addr);
		*colon = '\0';
		snprintf(port, sizeof(port), "%s", colon + 1);
		if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE;
		rc = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
		if (rc != 0)
			return wsp_error_set(err, WSP_ERR_INVALID, "listen %s: %s", listen_addr, gai_strerror(rc));
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			freeaddrinfo(ai);
			return wsp_error_set(err, WSP_ERR_IO, "cannot listen on %s: %s", listen_addr, strerror(e));
		}
		freeaddrinfo(ai);
	}
	/* Non-blocking: the workers race for each connection. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

int wsp_listen_open(const wsp_config *cfg, wsp_error *err)
{
	int fd = wsp__listener_open(cfg->listen, err);

	if (fd < 0)
		return fd;
	listen_fd = fd;
	return 0;
}
