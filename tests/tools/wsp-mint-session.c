/* wsp-mint-session.c - test tool: create a login session without the REST
 * login and print its signed `wsp_session` cookie value.
 *
 *   wsp-mint-session -c CONFIG USER [--roles a,b] [--ttl SECONDS] [--no-row]
 *
 * Inserts a wsp_sessions row (so revocation through the DB triggers works)
 * with the user's roles from wsp_users unless --roles is given, and signs the
 * cookie with the config's secret_file (src/token.h).  --no-row signs a
 * cookie whose session row does not exist yet (the "just logged in" race).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "db.h"
#include "secret.h"
#include "token.h"

static int die(const char *what)
{
	fprintf(stderr, "wsp-mint-session: %s\n", what);
	return 1;
}

int main(int argc, char **argv)
{
	const char *cfgpath = NULL, *user = NULL, *roles = NULL;
	long ttl = 3600;
	int row = 1;
	wsp_config cfg;
	wsp_error err;
	wsp_secret secret;
	wsp_token t;
	wsp_db *db = NULL;
	char cookie[WSP_TOKEN_MAX], exp[32], lit[WSP_ROLES_MAX + 3];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			cfgpath = argv[++i];
		else if (!strcmp(argv[i], "--roles") && i + 1 < argc)
			roles = argv[++i];
		else if (!strcmp(argv[i], "--ttl") && i + 1 < argc)
			ttl = atol(argv[++i]);
		else if (!strcmp(argv[i], "--no-row"))
			row = 0;
		else if (!user && argv[i][0] != '-')
			user = argv[i];
		else
			return die("usage: wsp-mint-session -c CONFIG USER [--roles a,b] [--ttl S] [--no-row]");
	}
	if (!cfgpath || !user)
		return die("usage: wsp-mint-session -c CONFIG USER [--roles a,b] [--ttl S] [--no-row]");
	wsp_error_init(&err);
	if (wsp_config_init(&cfg) < 0 || wsp_config_load(&cfg, cfgpath, &err) < 0 ||
	    wsp_secret_load(&secret, cfg.secret_file, &err) < 0)
		return die(err.text);
	memset(&t, 0, sizeof(t));
	wsp_random_hex(t.sid, 16);
	snprintf(t.username, sizeof(t.username), "%s", user);
	t.exp = (long long)time(NULL) + ttl;
	if (!(db = wsp_db_connect(cfg.database, &err)))
		return die(err.text);
	if (!roles) {
		const char *p[1] = { user };
		wsp_db_res *r = wsp_db_query(db, "SELECT array_to_string(roles, ',') FROM wsp_users WHERE username = $1",
					     1, p, &err);

		if (!r)
			return die(err.text);
		snprintf(t.roles, sizeof(t.roles), "%s", wsp_db_nrows(r) ? wsp_db_get(r, 0, 0) : "");
		wsp_db_res_free(r);
	} else {
		snprintf(t.roles, sizeof(t.roles), "%s", roles);
	}
	if (row) {
		const char *p[4] = { t.sid, t.username, lit, exp };

		snprintf(lit, sizeof(lit), "{%s}", t.roles);
		snprintf(exp, sizeof(exp), "%lld", t.exp);
		if (wsp_db_exec(db, "INSERT INTO wsp_sessions (id, username, roles, expires_at) "
				    "VALUES ($1, $2, $3, to_timestamp($4::bigint))", 4, p, &err) < 0)
			return die(err.text);
	}
	wsp_db_close(db);
	if (wsp_token_sign(&secret, &t, cookie, sizeof(cookie)) < 0)
		return die("cannot sign the token");
	printf("%s %s\n", cookie, t.sid);
	wsp_config_cleanup(&cfg);
	return 0;
}
