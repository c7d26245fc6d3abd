/* notify.c - see notify.h. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

int wsp_notify(const char *state, wsp_error *err)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	size_t plen;
	ssize_t n;
	int fd;

	if (!path || !*path)
		return 1;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sun.sun_path))
		return wsp_error_set(err, WSP_ERR_INVALID, "NOTIFY_SOCKET '%.100s' is not a socket path",
				     path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';   /* abstract: no terminating NUL counted */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return wsp_error_set(err, WSP_ERR_IO, "NOTIFY_SOCKET: %s", strerror(errno));
	do
		n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, len);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return wsp_error_set(err, WSP_ERR_IO, "NOTIFY_SOCKET %s: %s", path, strerror(errno));
	return 0;
}
