/* presence.h - the cluster-wide presence contract shared by wspulsed
 * (src/daemon/presence.c writes and reads it) and wspulse.fcgi (GET
 * /api/1/websocket/presence reads it): the table of db/002_presence.sql,
 * its timing and its SQL, written once here.
 *
 * Each daemon worker owns one row per namespace it serves: its socket count
 * there and the distinct usernames of its logged-in sockets (at most
 * WSP_PRESENCE_NAMES_MAX; the count is always exact).  The cost does not
 * grow with the number of joins: a worker writes its changed rows at most
 * once per WSP_PRESENCE_FLUSH_MS (one statement for all of them, with one
 * NOTIFY wsp_presence), touches them once per WSP_PRESENCE_BEAT_MS, and
 * re-reads the others' sums once per beat and once per burst of
 * notifications (coalesced over WSP_PRESENCE_FLUSH_MS).  A row not touched
 * for WSP_PRESENCE_EXPIRE_S seconds belongs to a worker that crashed or lost
 * its database and is left out of every count; so a crashed daemon's
 * sockets leave the count within WSP_PRESENCE_EXPIRE_S + one beat (4 s).
 */
#ifndef WSP_PRESENCE_H
#define WSP_PRESENCE_H

#define WSP_PRESENCE_FLUSH_MS 100
#define WSP_PRESENCE_BEAT_MS 1000
#define WSP_PRESENCE_EXPIRE_S 3
#define WSP_PRESENCE_NAMES_MAX 1000
#define WSP_PRESENCE_CHANNEL "wsp_presence"

/* Upsert this worker's rows and notify.  $1 daemon id, $2 a JSON object
 * {"<namespace>": {"c": <sockets>, "u": [<usernames>]}, ...}. */
#define WSP_PRESENCE_SQL_WRITE \
	"WITH w AS (INSERT INTO wsp_presence (daemon_id, namespace, clients, users, updated_at) " \
	"SELECT $1, key, (value->>'c')::int, coalesce(value->'u', '[]'::jsonb), now() " \
	"FROM jsonb_each($2::jsonb) ON CONFLICT (daemon_id, namespace) DO UPDATE SET " \
	"clients = EXCLUDED.clients, users = EXCLUDED.users, updated_at = now() RETURNING 1) " \
	"SELECT pg_notify('" WSP_PRESENCE_CHANNEL "', $1), (SELECT count(*) FROM w)"

/* The heartbeat: $1 daemon id. */
#define WSP_PRESENCE_SQL_BEAT "UPDATE wsp_presence SET updated_at = now() WHERE daemon_id = $1"

/* Rows of workers gone for an hour are deleted (by any worker, now and then). */
#define WSP_PRESENCE_SQL_GC "DELETE FROM wsp_presence WHERE updated_at < now() - interval '1 hour'"

/* The live sums per namespace: $1 a daemon id to leave out ('' = none),
 * $2 one namespace ('' = all).  Columns: namespace, sockets, live rows
 * (workers), distinct usernames as a sorted JSON array (text). */
#define WSP_PRESENCE_LIVE(t) \
	t ".updated_at > now() - make_interval(secs => " WSP_PRESENCE_STR(WSP_PRESENCE_EXPIRE_S) ") " \
	"AND " t ".daemon_id <> $1"
#define WSP_PRESENCE_STR_(x) #x
#define WSP_PRESENCE_STR(x) WSP_PRESENCE_STR_(x)
#define WSP_PRESENCE_SQL_READ \
	"SELECT p.namespace, sum(p.clients)::bigint, count(*), " \
	"(SELECT coalesce(jsonb_agg(DISTINCT x ORDER BY x), '[]'::jsonb)::text " \
	" FROM wsp_presence q, jsonb_array_elements_text(q.users) x " \
	" WHERE q.namespace = p.namespace AND " WSP_PRESENCE_LIVE("q") ") " \
	"FROM wsp_presence p WHERE " WSP_PRESENCE_LIVE("p") " AND ($2 = '' OR p.namespace = $2) " \
	"GROUP BY p.namespace ORDER BY p.namespace"

#endif
