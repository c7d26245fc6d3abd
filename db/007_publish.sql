-- 007_publish.sql - wsp_publish(): publishing from any application, in its
-- own transaction, and the role wspulse_publisher that may call it.
-- (wsp_publish_text() is the same for a payload given as JSON text, stored
-- byte for byte.)
--
--   BEGIN;
--   INSERT INTO orders ...;
--   SELECT wsp_publish('/api/1/ws/orders', '{"type":"order-created","id":42}');
--   COMMIT;            -- delivered once on every daemon; ROLLBACK: nothing sent
--
-- The checks are the REST publish API's (fcgi/validate.c): the namespace is
-- a path under /api/1/ws/ (at most 200 bytes of [A-Za-z0-9_.~/-], no empty,
-- "." or ".." segment), data is a JSON object of at most
-- wspulse.max_message_bytes bytes as stored (the setting, default 65536;
-- `ALTER DATABASE wspulse SET wspulse.max_message_bytes = ...` to match
-- max_message_bytes in wspulse.conf), username ("" for the system) at most
-- 64 bytes without control characters (a site's own user names, as in its
-- connection tokens), client_id NULL, 1-64 of [A-Za-z0-9_-] (the sockets
-- with that public clientId) or "user:<username>" (the sockets logged in as
-- that user, as the REST API's toUser).  A refusal is an SQL error
-- naming the argument: SQLSTATE 22023 (invalid_parameter_value), or 54000
-- (program_limit_exceeded) for the size, so the caller's transaction aborts.
--
-- SECURITY DEFINER with a fixed search_path (this schema, then pg_temp): a
-- caller holding only EXECUTE cannot read or write wspulse's tables, nor
-- slip its own objects in front of them.

-- The payload text as given: wsp_publish_text stores exactly these bytes (the
-- REST publish API hands it its own compact JSON, so what is sent is what was
-- posted, number for number); wsp_publish(jsonb) is the one applications
-- call, with PostgreSQL's text of the jsonb.  Both check the same.
CREATE FUNCTION wsp_publish_text(namespace text, payload text, username text DEFAULT '',
                                 client_id text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    kind    text;
    lim     bigint;
    new_id  bigint;
BEGIN
    IF namespace IS NULL OR octet_length(namespace) > 200
       OR namespace !~ '^/api/1/ws/[A-Za-z0-9_.~/-]+$'
       OR substr(namespace, 11) ~ '(^|/)(\.{1,2})?(/|$)' THEN
        RAISE EXCEPTION 'wsp_publish: namespace must be a path starting with /api/1/ws/ (got %)',
            coalesce(quote_literal(left(namespace, 64)), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    BEGIN
        kind := jsonb_typeof(payload::jsonb);
    EXCEPTION WHEN invalid_text_representation THEN
        kind := 'not JSON';
    END;
    IF kind IS NULL OR kind <> 'object' THEN
        RAISE EXCEPTION 'wsp_publish: data must be a JSON object (got %)', coalesce(kind, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF username IS NULL OR octet_length(username) > 64 OR username ~ '[[:cntrl:]]' THEN
        RAISE EXCEPTION 'wsp_publish: username must be at most 64 bytes without control characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF client_id IS NOT NULL AND client_id !~ '^[A-Za-z0-9_-]{1,64}$'
       AND client_id !~ '^user:[A-Za-z0-9_.@-]{1,64}$' THEN
        RAISE EXCEPTION 'wsp_publish: client_id must be a client UUID (1-64 of A-Z a-z 0-9 _ -) or user:<username>'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    lim := coalesce(nullif(current_setting('wspulse.max_message_bytes', true), '')::bigint, 65536);
    IF octet_length(payload) > lim THEN
        RAISE EXCEPTION 'wsp_publish: data is % bytes, over the %-byte message limit',
            octet_length(payload), lim
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    INSERT INTO wsp_outbox (namespace, payload, username, client_id)
        VALUES (wsp_publish_text.namespace, payload, wsp_publish_text.username, wsp_publish_text.client_id)
        RETURNING id INTO new_id;
    RETURN new_id;
END $$;

CREATE FUNCTION wsp_publish(namespace text, data jsonb, username text DEFAULT '',
                            client_id text DEFAULT NULL)
RETURNS bigint LANGUAGE sql SECURITY DEFINER AS $$
    SELECT wsp_publish_text(namespace, data::text, username, client_id)
$$;

REVOKE ALL ON FUNCTION wsp_publish(text, jsonb, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION wsp_publish_text(text, text, text, text) FROM PUBLIC;

-- The fixed search_path names the schema this migration runs in, whatever
-- it is called; the role is cluster-wide, so it may exist already (a second
-- wspulse database in the same cluster).  An owner without CREATEROLE gets a
-- notice instead of a failed migration: a superuser then runs
-- `CREATE ROLE wspulse_publisher NOLOGIN` and `wspulse-admin init-db` is
-- not needed again; the GRANTs below are in README.
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION wsp_publish(text, jsonb, text, text) SET search_path = %I, pg_temp',
                   current_schema());
    EXECUTE format('ALTER FUNCTION wsp_publish_text(text, text, text, text) SET search_path = %I, pg_temp',
                   current_schema());
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'wspulse_publisher') THEN
        BEGIN
            CREATE ROLE wspulse_publisher NOLOGIN;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'cannot create role wspulse_publisher (no CREATEROLE); create it as a superuser and grant EXECUTE on wsp_publish to it';
            RETURN;
        END;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO wspulse_publisher', current_schema());
    GRANT EXECUTE ON FUNCTION wsp_publish(text, jsonb, text, text) TO wspulse_publisher;
    GRANT EXECUTE ON FUNCTION wsp_publish_text(text, text, text, text) TO wspulse_publisher;
END $$;
