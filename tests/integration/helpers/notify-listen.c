/* notify-listen.c - test helper: stand in for systemd's NOTIFY_SOCKET.
 * Binds a datagram socket at PATH, prints "BOUND", then prints every
 * datagram it receives as one line (its newlines shown as spaces), flushed.
 * Usage: notify-listen PATH.  Tests start a program with NOTIFY_SOCKET=PATH
 * and read what it announced (READY=1, STOPPING=1, STATUS=...). */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sun;
	char buf[4096];
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: notify-listen PATH\n");
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		perror("notify-listen");
		return 1;
	}
	/* The program under test may run as another user (wspulsed as the
	 * service user): anyone may send. */
	chmod(argv[1], 0666);
	printf("BOUND\n");
	fflush(stdout);
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0)
			return 1;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n' || buf[i] == '\0')
				buf[i] = ' ';
		buf[n] = '\0';
		printf("%s\n", buf);
		fflush(stdout);
	}
}
