-- 008_outbox_notify_row.sql - the outbox NOTIFY carries the row itself when
-- it fits (issue 18).  With the id alone every listening daemon worker ran
-- one SELECT per published row: with 16 workers that was 16 queries per
-- publish, and PostgreSQL spent ~345 µs per REST publish instead of ~50.
--
-- The payload is, one per line (none of the first six holds a newline:
-- a row whose client id, origin, user name or namespace holds one is sent
-- by id), then the payload text as stored:
--   <id>\n<t if for everyone, f if for client_id>\n<client_id>\n<origin>\n<username>\n<namespace>\n<payload>
-- A row too big for NOTIFY's 8000 bytes sends its id alone, as before, and
-- the daemons fetch it.  Daemons before this migration read only the id
-- form: upgrade the daemons together with this migration.
CREATE OR REPLACE FUNCTION wsp_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    m text;
BEGIN
    m := NEW.id::text || E'\n' || CASE WHEN NEW.client_id IS NULL THEN 't' ELSE 'f' END || E'\n'
         || coalesce(NEW.client_id, '') || E'\n' || NEW.origin || E'\n' || NEW.username || E'\n'
         || NEW.namespace || E'\n' || NEW.payload;
    IF octet_length(m) > 7800 OR strpos(coalesce(NEW.client_id, '') || NEW.origin || NEW.username
                                        || NEW.namespace, E'\n') > 0 THEN
        m := NEW.id::text;
    END IF;
    PERFORM pg_notify('wsp_outbox', m);
    RETURN NEW;
END $$;
