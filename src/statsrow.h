/* statsrow.h - the daemon stats row contract shared by wspulsed (each
 * worker writes its row every stats_interval and reads every row back for
 * the cluster-wide getStats(): daemon/snapshot.c) and wspulse.fcgi (GET
 * /api/1/websocket/stats, the admin page and GET /api/1/websocket/metrics
 * read them): the table wsp_daemon_stats of db/001_init.sql, its write, its
 * read and the decoding of a row, written once here.  The sum itself is
 * wsp_stats_merge (daemon/stats.h), the Prometheus text wsp_metrics_render
 * (daemon/metrics.h). */
#ifndef WSP_STATSROW_H
#define WSP_STATSROW_H

#include <jansson.h>

/* Upsert one daemon's row: $1 daemon id, $2 host, $3 pid, $4 start time
 * (seconds since the epoch, float), $5 the snapshot (JSON text). */
#define WSP_STATSROW_SQL_WRITE \
	"INSERT INTO wsp_daemon_stats (daemon_id, host, pid, started_at, updated_at, stats) " \
	"VALUES ($1, $2, $3::int, to_timestamp($4::float8), now(), $5::jsonb) " \
	"ON CONFLICT (daemon_id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, " \
	"started_at = EXCLUDED.started_at, updated_at = now(), stats = EXCLUDED.stats"

/* A timestamp column as the ISO 8601 text every answer of both programs
 * shows (UTC, milliseconds). */
#define WSP_SQL_ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* Every row, by daemon id: $1 how many seconds old a row may be and still
 * count as up (3 x stats_interval).  WSP_STATSROW_NCOLS columns, decoded by
 * wsp_statsrow_json; the last is the database's clock (whole seconds since
 * the epoch), the one updated_at was written with. */
#define WSP_STATSROW_SQL_READ \
	"SELECT daemon_id, host, pid, " WSP_SQL_ISO("started_at") ", " WSP_SQL_ISO("updated_at") ", " \
	"updated_at > now() - make_interval(secs => $1::int), " \
	"greatest(0, floor(extract(epoch FROM now() - updated_at)))::bigint, stats::text, " \
	"floor(extract(epoch FROM now()))::bigint FROM wsp_daemon_stats ORDER BY daemon_id"
#define WSP_STATSROW_NCOLS 9
#define WSP_STATSROW_COL_NOW 8

/* One row read with WSP_STATSROW_SQL_READ (col[i] is column i as text) as
 * the object wsp_stats_merge and wsp_metrics_render take: {"id", "host",
 * "pid", "startedAt", "updatedAt", "up" (fresh and its stats parse),
 * "age" (seconds since it was written), "stats" (null when it does not
 * parse)}.  NEW reference, NULL when out of memory. */
json_t *wsp_statsrow_json(const char *const col[WSP_STATSROW_NCOLS]);

#endif
