/* wspulse-admin.c - schema migrations and user management.
 *
 *   wspulse-admin [-c FILE] [-d CONNINFO] init-db [--migrations DIR]
 *   wspulse-admin [-c FILE] [-d CONNINFO] user add NAME [--roles a,b]   (password on stdin)
 *   wspulse-admin ... user passwd NAME                                  (password on stdin)
 *   wspulse-admin ... user roles NAME a,b
 *   wspulse-admin ... user del NAME
 *   wspulse-admin ... user list
 *   wspulse-admin ... publish NAMESPACE JSON [--user NAME] [--client-id UUID]
 *   wspulse-admin gen-secret [--group GROUP] FILE
 *
 * Every failure prints one line naming what went wrong and exits non-zero:
 * 1 for runtime errors (database down, user exists), 2 for bad usage.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "conf.h"
#include "db.h"
#include "password.h"
#include "secret.h"
#include "token.h"

#define MIGRATIONS_DEFAULT WSP_PKGDATADIR "/migrations"

static const char *prog = "wspulse-admin";

/* The help text: on stdout for --help (exit 0), on stderr for bad usage
 * (exit 2). */
static void print_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [-c FILE] [-d CONNINFO] COMMAND\n"
		"Commands:\n"
		"  init-db [--migrations DIR]   apply the schema migrations (idempotent)\n"
		"  user add NAME [--roles a,b]  create a user; password read from stdin\n"
		"  user passwd NAME             set a password read from stdin\n"
		"  user roles NAME a,b          replace the roles (ends the user's sessions)\n"
		"  user del NAME                delete a user (ends the user's sessions)\n"
		"  user list                    list users and roles\n"
		"  publish NAMESPACE JSON [--user NAME] [--client-id UUID]\n"
		"                               broadcast JSON (an object) through wsp_publish()\n"
		"  gen-secret [--group G] FILE  create a secret file: 32 random bytes as hex (mode 0600;\n"
		"                               with --group: group G, mode 0640, so every program\n"
		"                               user in G reads it); also serves as an API or\n"
		"                               metrics token file\n"
		"Options:\n"
		"  -c FILE       configuration file (default %s)\n"
		"  -d CONNINFO   database conninfo, overrides the config\n"
		"  -h, --help    print this help and exit\n"
		"  -V, --version print the version and exit\n",
		prog, WSP_DEFAULT_CONFIG);
}

static int usage(void)
{
	print_usage(stderr);
	return 2;
}

static int fail(const char *what)
{
	fprintf(stderr, "%s: %s\n", prog, what);
	return 1;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@-") == n;
}

/* Roles "a,b" -> PostgreSQL array literal "{a,b}"; role names as user names,
 * at most WSP_ROLES_MAX bytes in all (what a session carries: wspulse.fcgi
 * refuses a login whose roles do not fit, never cuts them). */
static int roles_literal(const char *roles, char *out, size_t outsz)
{
	size_t o = 0;
	const char *p = roles;

	out[o++] = '{';
	while (*p) {
		size_t n = strcspn(p, ",");
		char role[65];

		if (n == 0 || n > 64)
			return -1;
		memcpy(role, p, n);
		role[n] = '\0';
		if (!valid_name(role) || o + n + 2 >= outsz)
			return -1;
		if (o > 1)
			out[o++] = ',';
		memcpy(out + o, role, n);
		o += n;
		p += n;
		if (*p == ',')
			p++;
	}
	out[o++] = '}';
	out[o] = '\0';
	if (o - 2 > WSP_ROLES_MAX)
		return -1;
	return 0;
}

static char *read_password(void)
{
	char buf[1024];
	size_t n;

	if (isatty(0))
		fprintf(stderr, "Password: ");
	if (!fgets(buf, sizeof(buf), stdin))
		return NULL;
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n < 8) {
		explicit_bzero(buf, sizeof(buf));
		return NULL;
	}
	return wsp_strdup(buf);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int init_db(wsp_db *db, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *names[256], line[8192];
	int n = 0, applied = 0, rc = 0;
	wsp_error err;

	if (!d) {
		snprintf(line, sizeof(line), "migrations folder %s: %s", dir, strerror(errno));
		return fail(line);
	}
	while ((e = readdir(d)) && n < 256) {
		size_t l = strlen(e->d_name);

		if (l > 4 && strcmp(e->d_name + l - 4, ".sql") == 0 && e->d_name[0] >= '0' && e->d_name[0] <= '9')
			names[n++] = wsp_strdup(e->d_name);
	}
	closedir(d);
	if (n == 0)
		return fail("no migrations (NNN_name.sql) found");
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	wsp_error_init(&err);
	if (wsp_db_exec(db, "CREATE TABLE IF NOT EXISTS wsp_schema_version ("
			    " version integer PRIMARY KEY, name text NOT NULL,"
			    " applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL, &err) < 0) {
		rc = fail(err.text);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		char path[4096], ver[16];
		const char *params[2];
		wsp_db_res *r;
		FILE *f;
		char *sql;
		long size;

		snprintf(ver, sizeof(ver), "%d", atoi(names[i]));
		params[0] = ver;
		params[1] = names[i];
		wsp_error_init(&err);
		/* One transaction per migration, serialised by an advisory lock so
		 * two admins (or two demos) cannot apply the same one twice. */
		if (wsp_db_exec(db, "BEGIN", 0, NULL, &err) < 0 ||
		    wsp_db_exec(db, "SELECT pg_advisory_xact_lock(7170001)", 0, NULL, &err) < 0 ||
		    !(r = wsp_db_query(db, "SELECT 1 FROM wsp_schema_version WHERE version = $1", 1, params, &err))) {
			rc = fail(err.text);
			goto out;
		}
		if (wsp_db_nrows(r) > 0) {
			wsp_db_res_free(r);
			wsp_db_exec(db, "COMMIT", 0, NULL, NULL);
			continue;
		}
		wsp_db_res_free(r);
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = fopen(path, "r");
		if (!f || fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
		    !(sql = wsp_malloc((size_t)size + 1)) || fread(sql, 1, (size_t)size, f) != (size_t)size) {
			if (f)
				fclose(f);
			snprintf(line, sizeof(line), "cannot read %s", path);
			wsp_db_exec(db, "ROLLBACK", 0, NULL, NULL);
			rc = fail(line);
			goto out;
		}
		fclose(f);
		sql[size] = '\0';
		if (wsp_db_exec_script(db, sql, &err) < 0 ||
		    wsp_db_exec(db, "INSERT INTO wsp_schema_version (version, name) VALUES ($1, $2)", 2, params, &err) < 0 ||
		    wsp_db_exec(db, "COMMIT", 0, NULL, &err) < 0) {
			wsp_free(sql);
			snprintf(line, sizeof(line), "%s: %s", names[i], err.text);
			wsp_db_exec(db, "ROLLBACK", 0, NULL, NULL);
			rc = fail(line);
			goto out;
		}
		wsp_free(sql);
		printf("applied %s\n", names[i]);
		applied++;
	}
	{
		wsp_db_res *r = wsp_db_query(db, "SELECT coalesce(max(version), 0) FROM wsp_schema_version", 0, NULL, &err);

		printf("schema version %s (%d migration%s applied now)\n", r ? wsp_db_get(r, 0, 0) : "?",
		       applied, applied == 1 ? "" : "s");
		wsp_db_res_free(r);
	}
out:
	for (int i = 0; i < n; i++)
		wsp_free(names[i]);
	return rc;
}

static int user_cmd(wsp_db *db, int argc, char **argv)
{
	wsp_error err;
	char line[512], roles[1024] = "{}";
	const char *params[3];

	wsp_error_init(&err);
	if (argc < 1)
		return usage();
	if (strcmp(argv[0], "list") == 0) {
		wsp_db_res *r = wsp_db_query(db, "SELECT username, array_to_string(roles, ','), created_at::date "
						 "FROM wsp_users ORDER BY username", 0, NULL, &err);

		if (!r)
			return fail(err.text);
		for (int i = 0; i < wsp_db_nrows(r); i++)
			printf("%-24s %-30s %s\n", wsp_db_get(r, i, 0), wsp_db_get(r, i, 1), wsp_db_get(r, i, 2));
		wsp_db_res_free(r);
		return 0;
	}
	if (argc < 2)
		return usage();
	if (!valid_name(argv[1])) {
		snprintf(line, sizeof(line), "invalid user name '%.64s' (1-64 of A-Z a-z 0-9 _ . @ -)", argv[1]);
		return fail(line);
	}
	params[0] = argv[1];
	if (strcmp(argv[0], "add") == 0 || strcmp(argv[0], "passwd") == 0) {
		int add = argv[0][0] == 'a';
		char *pw, *hash;
		wsp_db_res *r;

		if (add && argc == 4 && strcmp(argv[2], "--roles") == 0) {
			if (roles_literal(argv[3], roles, sizeof(roles)) < 0)
				return fail("invalid --roles (comma-separated names of A-Z a-z 0-9 _ . @ -, at most 256 bytes in all)");
		} else if (argc != 2) {
			return usage();
		}
		pw = read_password();
		if (!pw)
			return fail("no password on stdin (need at least 8 characters)");
		hash = wsp_password_hash(pw, &err);
		explicit_bzero(pw, strlen(pw));
		wsp_free(pw);
		if (!hash)
			return fail(err.text);
		params[1] = hash;
		params[2] = roles;
		r = add ? wsp_db_query(db, "INSERT INTO wsp_users (username, password_hash, roles) VALUES ($1, $2, $3) "
					   "ON CONFLICT (username) DO NOTHING", 3, params, &err)
			: wsp_db_query(db, "UPDATE wsp_users SET password_hash = $2, updated_at = now() WHERE username = $1",
				       2, params, &err);
		wsp_free(hash);
		if (!r)
			return fail(err.text);
		if (wsp_db_affected(r) != 1) {
			wsp_db_res_free(r);
			snprintf(line, sizeof(line), add ? "user '%s' already exists" : "no user '%s'", argv[1]);
			return fail(line);
		}
		wsp_db_res_free(r);
		printf("%s user %s\n", add ? "added" : "password set for", argv[1]);
		return 0;
	}
	if (strcmp(argv[0], "roles") == 0 || strcmp(argv[0], "del") == 0) {
		int del = argv[0][0] == 'd';
		wsp_db_res *r;

		if (argc != (del ? 2 : 3))
			return usage();
		if (!del && roles_literal(argv[2], roles, sizeof(roles)) < 0)
			return fail("invalid roles (comma-separated names of A-Z a-z 0-9 _ . @ -, at most 256 bytes in all)");
		params[1] = roles;
		r = del ? wsp_db_query(db, "DELETE FROM wsp_users WHERE username = $1", 1, params, &err)
			: wsp_db_query(db, "UPDATE wsp_users SET roles = $2, updated_at = now() WHERE username = $1",
				       2, params, &err);
		if (!r)
			return fail(err.text);
		if (wsp_db_affected(r) != 1) {
			wsp_db_res_free(r);
			snprintf(line, sizeof(line), "no user '%s'", argv[1]);
			return fail(line);
		}
		wsp_db_res_free(r);
		printf(del ? "deleted user %s\n" : "roles of %s set\n", argv[1]);
		return 0;
	}
	return usage();
}

/* gen-secret: the file is created 0600 by its creator; with a group it is
 * then given to that group and opened to it (0640): the `wspulse` group
 * model of SECURITY.md, in which the daemon's user and the web server's
 * user both read one secret. */
static int gen_secret(const char *file, const char *group)
{
	struct group *g = NULL;
	wsp_error err;
	char msg[512];

	if (group) {
		g = getgrnam(group);
		if (!g) {
			snprintf(msg, sizeof(msg), "no group '%s' (addgroup --system %s)", group, group);
			return fail(msg);
		}
	}
	wsp_error_init(&err);
	if (wsp_secret_generate(file, &err) < 0)
		return fail(err.text);
	if (g && (chown(file, (uid_t)-1, g->gr_gid) < 0 || chmod(file, 0640) < 0)) {
		snprintf(msg, sizeof(msg), "%s: cannot give it to group %s: %s", file, group, strerror(errno));
		unlink(file);
		return fail(msg);
	}
	if (g)
		printf("created %s (group %s, mode 0640)\n", file, group);
	else
		printf("created %s\n", file);
	return 0;
}

/* publish NAMESPACE JSON [--user NAME] [--client-id UUID]: one call of the
 * SQL function wsp_publish() (db/007_publish.sql), which checks everything
 * and says what is wrong; prints the outbox id. */
static int publish_cmd(wsp_db *db, int argc, char **argv)
{
	const char *params[4] = { NULL, NULL, "", NULL };
	wsp_db_res *r;
	wsp_error err;

	if (argc < 2)
		return usage();
	params[0] = argv[0];
	params[1] = argv[1];
	for (int i = 2; i < argc; i += 2) {
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--user") == 0)
			params[2] = argv[i + 1];
		else if (strcmp(argv[i], "--client-id") == 0)
			params[3] = argv[i + 1];
		else
			return usage();
	}
	wsp_error_init(&err);
	r = wsp_db_query(db, "SELECT wsp_publish($1, $2::jsonb, $3, $4)", 4, params, &err);
	if (!r)
		return fail(err.text);
	printf("published outbox %s\n", wsp_db_get(r, 0, 0));
	wsp_db_res_free(r);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cfgpath = NULL, *conninfo = NULL, *migrations = MIGRATIONS_DEFAULT;
	wsp_config cfg;
	wsp_error err;
	wsp_db *db;
	int i = 1, rc;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			cfgpath = argv[++i];
		else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
			conninfo = argv[++i];
		else if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("wspulse-admin %s\n", PACKAGE_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_usage(stdout);
			return 0;
		} else
			return usage();
	}
	if (i >= argc)
		return usage();
	if (strcmp(argv[i], "gen-secret") == 0) {
		const char *group = NULL, *file;

		if (i + 4 == argc && strcmp(argv[i + 1], "--group") == 0)
			group = argv[i + 2];
		else if (i + 2 != argc)
			return usage();
		file = argv[argc - 1];
		return gen_secret(file, group);
	}
	if (strcmp(argv[i], "init-db") == 0) {
		if (i + 3 == argc && strcmp(argv[i + 1], "--migrations") == 0)
			migrations = argv[i + 2];
		else if (i + 1 != argc)
			return usage();
	} else if (strcmp(argv[i], "user") != 0 && strcmp(argv[i], "publish") != 0) {
		return usage();
	}
	wsp_error_init(&err);
	if (wsp_config_init(&cfg) < 0)
		return fail("out of memory");
	/* The config file is optional when -d names the database.  Every path
	 * below frees what it holds, so LeakSanitizer and valgrind see a clean
	 * exit even on failure. */
	if ((cfgpath || !conninfo) && wsp_config_load(&cfg, cfgpath ? cfgpath : WSP_DEFAULT_CONFIG, &err) < 0) {
		rc = fail(err.text);
		goto out;
	}
	db = wsp_db_connect(conninfo ? conninfo : cfg.database, &err);
	if (!db) {
		rc = fail(err.text);
		goto out;
	}
	if (strcmp(argv[i], "init-db") == 0)
		rc = init_db(db, migrations);
	else if (strcmp(argv[i], "publish") == 0)
		rc = publish_cmd(db, argc - i - 1, argv + i + 1);
	else
		rc = user_cmd(db, argc - i - 1, argv + i + 1);
	wsp_db_close(db);
out:
	wsp_config_cleanup(&cfg);
	return rc;
}
