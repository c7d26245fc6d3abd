/* secret.c - see secret.h. */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
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

static bool in_my_groups(gid_t g)
{
	gid_t groups[256];
	int n;

	if (g == getegid())
		return true;
	n = getgroups(256, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == g)
			return true;
	return false;
}

int wsp_secret_check_stat(const struct stat *st, const char *path, const char *what, wsp_error *err)
{
	unsigned mode = (unsigned)(st->st_mode & 07777);

	if (!S_ISREG(st->st_mode))
		return wsp_error_set(err, WSP_ERR_IO, "%s %s: not a regular file", what, path);
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return wsp_error_set(err, WSP_ERR_FORBIDDEN,
				     "%s %s is owned by uid %u: it must belong to root or to the user reading it (uid %u)",
				     what, path, (unsigned)st->st_uid, (unsigned)geteuid());
	if ((mode & 077) == 0)
		return 0;
	if ((mode & 077) == 040 && in_my_groups(st->st_gid))
		return 0;
	if ((mode & 077) == 040)
		return wsp_error_set(err, WSP_ERR_FORBIDDEN,
				     "%s %s has mode %04o but its group (gid %u) is not one of this process's: "
				     "chgrp it to the program's own group (e.g. wspulse) or chmod 600 %s",
				     what, path, mode, (unsigned)st->st_gid, path);
	return wsp_error_set(err, WSP_ERR_FORBIDDEN,
			     "%s %s has mode %04o: it must not be writable by group nor readable by others "
			     "(chmod 600 %s, or 640 with the program's own group)",
			     what, path, mode, path);
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
	if (fstat(fd, &st) < 0) {
		close(fd);
		return wsp_error_set(err, WSP_ERR_IO, "secret file %s: %s", path, strerror(errno));
	}
	if (wsp_secret_check_stat(&st, path, "secret file", err) < 0) {
		close(fd);
		return err ? err->code : WSP_ERR_FORBIDDEN;
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
