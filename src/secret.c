/* secret.c - see secret.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"

int wsp_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return WSP_ERR_IO;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

int wsp_random_hex(char *out, size_t nbytes)
{
	unsigned char raw[64];
	static const char hex[] = "0123456789abcdef";

	if (nbytes > sizeof(raw) || wsp_random_bytes(raw, nbytes) < 0)
		return WSP_ERR_IO;
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * nbytes] = '\0';
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int wsp_secret_load(wsp_secret *s, const char *path, wsp_error *err)
{
	char text[2 * WSP_SECRET_MAX + 8];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd;

	memset(s, 0, sizeof(*s));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return wsp_error_set(err, WSP_ERR_IO, "secret file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return wsp_error_set(err, WSP_ERR_IO, "secret file %s: not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return wsp_error_set(err, WSP_ERR_FORBIDDEN,
				     "secret file %s has mode %04o: it must not be readable by group or others (chmod 600 %s)",
				     path, (unsigned)(st.st_mode & 07777), path);
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0)
		return wsp_error_set(err, WSP_ERR_IO, "secret file %s: %s", path, strerror(errno));
	text[n] = '\0';
	len = strspn(text, "0123456789abcdefABCDEF");
	if (text[len] && !isspace((unsigned char)text[len]))
		return wsp_error_set(err, WSP_ERR_INVALID, "secret file %s: not hexadecimal", path);
	if (len % 2 || len / 2 < WSP_SECRET_MIN || len / 2 > WSP_SECRET_MAX)
		return wsp_error_set(err, WSP_ERR_INVALID,
				     "secret file %s: need %d to %d bytes as hex digits", path,
				     WSP_SECRET_MIN, WSP_SECRET_MAX);
	for (size_t i = 0; i < len / 2; i++)
		s->key[i] = (unsigned char)(hexval(text[2 * i]) << 4 | hexval(text[2 * i + 1]));
	s->len = len / 2;
	return 0;
}

int wsp_secret_generate(const char *path, wsp_error *err)
{
	char hex[2 * WSP_SECRET_MIN + 2];
	int fd;
	size_t len;

	if (wsp_random_hex(hex, WSP_SECRET_MIN) < 0)
		return wsp_error_set(err, WSP_ERR_IO, "no random bytes available");
	len = strlen(hex);
	hex[len++] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return wsp_error_set(err, errno == EEXIST ? WSP_ERR_EXISTS : WSP_ERR_IO,
				     "cannot create secret file %s: %s", path, strerror(errno));
	if (write(fd, hex, len) != (ssize_t)len || fsync(fd) < 0) {
		close(fd);
		unlink(path);
		return wsp_error_set(err, WSP_ERR_IO, "cannot write secret file %s", path);
	}
	close(fd);
	return 0;
}
