#!/usr/bin/python3
"""publish_note.py - publish from a Python program through wsp_publish(), in
the program's own transaction: the note is written to the site's table and
announced on the WebSocket namespace together, or not at all.

    publish_note.py --dsn "host=/var/run/postgresql dbname=wspulse user=app_site" \\
                    --author cron --body "nightly report ready" [--rollback]

Needs Debian's python3-psycopg2 and a database login with the role
wspulse_publisher (and rights on its own tables: examples/php-site/schema.sql).
Prints the outbox id, or "rolled back".
"""
import argparse
import json
import sys

import psycopg2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", required=True, help="libpq conninfo")
    ap.add_argument("--namespace", default="/api/1/ws/app-notes")
    ap.add_argument("--author", required=True)
    ap.add_argument("--body", required=True)
    ap.add_argument("--rollback", action="store_true", help="make the change, then roll it back")
    args = ap.parse_args()

    conn = psycopg2.connect(args.dsn)
    try:
        with conn.cursor() as cur:   # psycopg2 opens the transaction
            cur.execute("INSERT INTO app_notes (author, body) VALUES (%s, %s)"
                        " RETURNING id, author, body, created_at::text",
                        (args.author, args.body))
            nid, author, body, created = cur.fetchone()
            note = {"id": nid, "author": author, "body": body, "created_at": created}
            cur.execute("SELECT wsp_publish(%s, %s::jsonb, %s)",
                        (args.namespace, json.dumps({"type": "note-added", "note": note}), args.author))
            outbox_id = cur.fetchone()[0]
        if args.rollback:
            conn.rollback()
            print("rolled back")
        else:
            conn.commit()
            print(outbox_id)
    except psycopg2.Error as e:
        conn.rollback()
        print("publish_note: %s" % (e.pgerror or e).strip(), file=sys.stderr)
        return 1
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
