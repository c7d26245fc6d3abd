/* pg-listen.c - test helper: LISTEN on PostgreSQL channels and print every
 * notification as one line "<channel> <payload>" on stdout (flushed), after
 * a first line "READY".  Usage: pg-listen CONNINFO CHANNEL...
 * Integration tests use it to see exactly which NOTIFYs a request caused. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>

#include <libpq-fe.h>

int main(int argc, char **argv)
{
	PGconn *c;

	if (argc < 3) {
		fprintf(stderr, "usage: pg-listen CONNINFO CHANNEL...\n");
		return 2;
	}
	c = PQconnectdb(argv[1]);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "pg-listen: %s", PQerrorMessage(c));
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		char *id = PQescapeIdentifier(c, argv[i], 100);
		char sql[256];
		PGresult *r;

		snprintf(sql, sizeof(sql), "LISTEN %s", id);
		PQfreemem(id);
		r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			fprintf(stderr, "pg-listen: %s", PQerrorMessage(c));
			return 1;
		}
		PQclear(r);
	}
	printf("READY\n");
	fflush(stdout);
	for (;;) {
		PGnotify *n;
		fd_set fds;
		int fd = PQsocket(c);

		FD_ZERO(&fds);
		FD_SET(fd, &fds);
		if (select(fd + 1, &fds, NULL, NULL, NULL) < 0)
			return 1;
		if (!PQconsumeInput(c)) {
			fprintf(stderr, "pg-listen: %s", PQerrorMessage(c));
			return 1;
		}
		while ((n = PQnotifies(c)) != NULL) {
			printf("%s %s\n", n->relname, n->extra);
			fflush(stdout);
			PQfreemem(n);
		}
	}
}
