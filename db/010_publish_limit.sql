-- 010_publish_limit.sql - the size limit wsp_publish() checks is not the
-- caller's to raise.
--
-- 007 read it with current_setting('wspulse.max_message_bytes'), which any
-- session may SET: an application holding only wspulse_publisher could
-- store a row of any size (SET wspulse.max_message_bytes = '1000000000'),
-- and every daemon would fetch and fan it out.  Now a caller that is not
-- the owner (or a member of it) gets the database's setting, as 007's
-- header documents it (ALTER DATABASE wspulse SET wspulse.max_message_bytes
-- = ...), whatever it SET; wspulse.fcgi, which connects as the owner and
-- passes its own max_message_bytes, is unchanged.  Never above 16 MiB.
--
-- CREATE OR REPLACE keeps the owner and the grants; the fixed search_path
-- is set again below (a replaced definition has none of its own).
CREATE OR REPLACE FUNCTION wsp_publish_text(namespace text, payload text, username text DEFAULT '',
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
    -- The limit is the caller's own setting only when the caller may act
    -- as this function's owner (wspulse.fcgi passes its max_message_bytes
    -- so); for anyone else, an application's role, it is the database's
    -- setting (ALTER DATABASE ... SET wspulse.max_message_bytes), never one
    -- the caller SET itself.  At most 16 MiB, max_message_bytes' ceiling.
    IF pg_has_role(session_user, current_user, 'USAGE') THEN
        lim := nullif(current_setting('wspulse.max_message_bytes', true), '')::bigint;
    ELSE
        SELECT substr(c, length('wspulse.max_message_bytes=') + 1)::bigint INTO lim
          FROM pg_db_role_setting s, unnest(s.setconfig) c
         WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND s.setrole = 0 AND c LIKE 'wspulse.max_message_bytes=%';
    END IF;
    lim := least(coalesce(lim, 65536), 16777216);
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

DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION wsp_publish_text(text, text, text, text) SET search_path = %I, pg_temp',
                   current_schema());
END $$;
