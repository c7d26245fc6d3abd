/* log.c - see log.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"

static const char *log_prog = "wspulse";
/* Read by every thread without a lock (wspulse.fcgi's workers log while
 * its main thread reloads). */
static atomic_int log_min = WSP_LOG_INFO;
static atomic_int log_fd = 2;
static char log_path[512];

static const char *const level_names[] = { "DEBUG", "INFO", "WARN", "ERROR" };

int wsp_log_level_parse(const char *s)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };

	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* Log to fd from now on: a descriptor just opened (taken over) or 2.
 * Once the log has a descriptor of its own, its NUMBER never changes:
 * dup3() makes it refer to the new file in one step.  Closing it and
 * storing another would leave a moment where the number is free while
 * other threads still write to it -- and accept() or libpq may take it,
 * so a log line would land in a FastCGI or PostgreSQL stream. */
static int use_fd(int fd)
{
	int cur = atomic_load(&log_fd);

	if (cur <= 2) {
		atomic_store(&log_fd, fd);
		return 0;
	}
	if (fd == cur)
		return 0;
	if (dup3(fd, cur, O_CLOEXEC) < 0) {
		if (fd > 2)
			close(fd);
		return WSP_ERR_IO;
	}
	if (fd > 2)
		close(fd);
	return 0;
}

static int open_file(void)
{
	int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return WSP_ERR_IO;
	return use_fd(fd);
}

int wsp_log_open(const char *prog, const char *level, const char *file)
{
	int lv = level ? wsp_log_level_parse(level) : WSP_LOG_INFO;

	if (prog)
		log_prog = prog;
	log_min = lv < 0 ? WSP_LOG_INFO : lv;
	if (!file || !*file) {
		log_path[0] = '\0';
		return use_fd(2);
	}
	snprintf(log_path, sizeof(log_path), "%s", file);
	return open_file();
}

int wsp_log_reopen(void)
{
	if (!log_path[0])
		return 0;
	if (open_file() < 0) {
		int saved = errno;

		use_fd(2);
		errno = saved;
		wsp_err(NULL, "cannot reopen log file %s: %s", log_path, strerror(errno));
		return WSP_ERR_IO;
	}
	return 0;
}

void wsp_log(int level, const char *scope, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n, head;
	va_list ap;

	if (level < log_min)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n += snprintf(line + n, sizeof(line) - n, " %s[%d] %s ", log_prog, (int)getpid(),
		      level_names[level < 0 || level > 3 ? 3 : level]);
	/* An empty scope is no scope: never a "[]" field. */
	if (scope && *scope && n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - n, "[%s] ", scope);
	head = n < sizeof(line) ? n : sizeof(line) - 1;
	if (n < sizeof(line)) {
		va_start(ap, fmt);
		n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	/* One event, one line: text from elsewhere (libpq's multi-line
	 * messages, client bytes) has its control characters turned into
	 * spaces, and runs of them into one. */
	{
		size_t o = head;

		for (size_t i = head; i < n; i++) {
			unsigned char ch = (unsigned char)line[i];

			if (ch < 0x20 || ch == 0x7f) {
				if (o > head && line[o - 1] == ' ')
					continue;
				ch = ' ';
			}
			line[o++] = (char)ch;
		}
		while (o > head && line[o - 1] == ' ')
			o--;
		n = o;
	}
	line[n++] = '\n';
	/* A full disk or closed log must never take the program down. */
	if (write(atomic_load_explicit(&log_fd, memory_order_relaxed), line, n) < 0 &&
	    atomic_load_explicit(&log_fd, memory_order_relaxed) != 2)
		(void)!write(2, line, n);
}

int wsp_log_limit_ok(wsp_log_limit *l, unsigned per_sec, int level, const char *what)
{
	struct timespec ts;
	long long sec;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sec = (long long)ts.tv_sec;
	if (sec != l->sec) {
		if (l->dropped)
			wsp_log(level, NULL, "... and %u more %s in the previous second", l->dropped, what);
		l->sec = sec;
		l->n = l->dropped = 0;
	}
	if (l->n < per_sec) {
		l->n++;
		return 1;
	}
	l->dropped++;
	return 0;
}
