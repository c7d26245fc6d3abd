/* log.h - one-line logging to stderr (or a file), with level and namespace.
 *
 * Line format: `2026-11-25T19:30:00Z wspulsed[123] INFO [/api/1/ws/x] text`.
 * The namespace (scope) may be NULL or "" (no field then).  Control
 * characters in the text (a multi-line libpq message) become single spaces,
 * so every event is exactly one line.  Thread-safe (one write(2) per line).
 * Secrets never belong in a log line: callers log ids, not tokens.
 */
#ifndef WSP_LOG_H
#define WSP_LOG_H

enum wsp_log_level { WSP_LOG_DEBUG, WSP_LOG_INFO, WSP_LOG_WARN, WSP_LOG_ERROR };

/* Set the program name and minimum level.  `file` NULL or "" logs to stderr;
 * otherwise lines are appended to that file.  Returns 0 or WSP_ERR_IO. */
int wsp_log_open(const char *prog, const char *level, const char *file);

/* Reopen the log file (SIGHUP after logrotate).  Safe to call from the main
 * loop, not from a signal handler.  Returns 0 or WSP_ERR_IO (logging then
 * falls back to stderr). */
int wsp_log_reopen(void);

/* Parse "debug|info|warn|error"; -1 when unknown. */
int wsp_log_level_parse(const char *s);

void wsp_log(int level, const char *scope, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A rate limit for one kind of log line (caller-owned, zero-initialised,
 * one thread): wsp_log_limit_ok() says whether this event may be logged -
 * at most per_sec a second.  The events it swallowed are reported in one
 * line ("... and N more <what> in the previous second", at `level`) the
 * next time it is asked in a later second. */
typedef struct wsp_log_limit {
	long long sec;
	unsigned n, dropped;
} wsp_log_limit;
int wsp_log_limit_ok(wsp_log_limit *l, unsigned per_sec, int level, const char *what);

#define wsp_debug(scope, ...) wsp_log(WSP_LOG_DEBUG, scope, __VA_ARGS__)
#define wsp_info(scope, ...) wsp_log(WSP_LOG_INFO, scope, __VA_ARGS__)
#define wsp_warn(scope, ...) wsp_log(WSP_LOG_WARN, scope, __VA_ARGS__)
#define wsp_err(scope, ...) wsp_log(WSP_LOG_ERROR, scope, __VA_ARGS__)

#endif
