-- 009_publish_batch.sql - wsp_publish_batch(): several publishes in ONE
-- statement, for wspulse.fcgi's group commit (issue 18; fcgi/pubgroup.h).
--
-- wspulse.fcgi queues the single REST publishes that arrive while one is
-- being committed and sends them together: one call of this function in
-- autocommit is one round trip and one commit for the whole group, and every
-- listening daemon is woken once for it instead of once per publish.  The
-- elements are checked against wsp_publish_text()'s rules (007) in one query
-- and stored by ONE insert, ids taken in array order (the NOTIFYs of 008 follow
-- the same order); calling wsp_publish_text() per element cost PostgreSQL
-- more than everything else of a publish (a subtransaction for its JSON check,
-- the SECURITY DEFINER switch, one insert each).  If any element breaks a
-- rule, the elements go through wsp_publish_text() one by one, so the
-- refusal is its own error with its own SQLSTATE, and the whole statement is
-- rolled back: nothing of the group is stored (the caller then sends the
-- elements one by one for their own answers).
--
-- The arrays are of one length; max_message_bytes is the stored-size limit
-- for this call (set as wspulse.max_message_bytes for the transaction, as the
-- REST API did with set_config before each publish).
CREATE FUNCTION wsp_publish_batch(namespaces text[], payloads text[], usernames text[],
                                  client_ids text[], max_message_bytes bigint)
RETURNS bigint[] LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    n    int := coalesce(array_length(namespaces, 1), 0);
    ids  bigint[] := '{}';
    bad  bigint;
BEGIN
    IF coalesce(array_length(payloads, 1), 0) <> n OR coalesce(array_length(usernames, 1), 0) <> n
       OR coalesce(array_length(client_ids, 1), 0) <> n THEN
        RAISE EXCEPTION 'wsp_publish_batch: the four arrays must have the same length'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF max_message_bytes IS NOT NULL THEN
        PERFORM set_config('wspulse.max_message_bytes', max_message_bytes::text, true);
    END IF;
    -- Every element against wsp_publish_text()'s rules at once (a text that
    -- is not JSON at all counts as bad).  Any bad one: the slow path below.
    BEGIN
        SELECT count(*) INTO bad
          FROM unnest(namespaces, payloads, usernames, client_ids) AS t(ns, p, u, c)
         WHERE NOT (ns IS NOT NULL AND octet_length(ns) <= 200
                    AND ns ~ '^/api/1/ws/[A-Za-z0-9_.~/-]+$'
                    AND substr(ns, 11) !~ '(^|/)(\.{1,2})?(/|$)'
                    AND p IS NOT NULL AND jsonb_typeof(p::jsonb) = 'object'
                    AND octet_length(p) <= coalesce(max_message_bytes, 65536)
                    AND u IS NOT NULL AND octet_length(u) <= 64 AND u !~ '[[:cntrl:]]'
                    AND (c IS NULL OR c ~ '^[A-Za-z0-9_-]{1,64}$' OR c ~ '^user:[A-Za-z0-9_.@-]{1,64}$'));
    EXCEPTION WHEN invalid_text_representation THEN
        bad := 1;
    END;
    IF bad > 0 THEN
        -- One by one: wsp_publish_text() raises the first bad element's error.
        FOR i IN 1 .. n LOOP
            ids := ids || wsp_publish_text(namespaces[i], payloads[i], usernames[i], client_ids[i]);
        END LOOP;
        RETURN ids;
    END IF;
    -- The ids in array order first, then ONE insert in that order (its row
    -- triggers, and so the NOTIFYs, follow the same order).
    FOR i IN 1 .. n LOOP
        ids := ids || nextval('wsp_outbox_id_seq'::regclass);
    END LOOP;
    INSERT INTO wsp_outbox (id, namespace, payload, username, client_id)
        SELECT ids[o], ns, p, u, c
          FROM unnest(namespaces, payloads, usernames, client_ids) WITH ORDINALITY AS t(ns, p, u, c, o)
         ORDER BY o;
    RETURN ids;
END $$;

REVOKE ALL ON FUNCTION wsp_publish_batch(text[], text[], text[], text[], bigint) FROM PUBLIC;

DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION wsp_publish_batch(text[], text[], text[], text[], bigint) SET search_path = %I, pg_temp',
                   current_schema());
END $$;
