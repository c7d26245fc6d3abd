-- 006_rest_write_rate.sql - a limit on anonymous REST writes per client
-- address (the hello-todo create/toggle/delete routes), shared by every
-- wspulse.fcgi process on the database.
--
-- One row per address: a fixed window of p_period seconds and the writes
-- counted in it, updated in one locked statement so concurrent requests
-- cannot overtake the limit.
CREATE TABLE wsp_rest_write_rate (
    address      text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    writes       integer NOT NULL
);

-- Count one write for p_address.  Returns 0 when it is within p_limit per
-- p_period seconds, else the seconds until the window ends (Retry-After).
CREATE FUNCTION wsp_rest_write_take(p_address text, p_limit integer, p_period integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    period interval := p_period * interval '1 second';
    r wsp_rest_write_rate;
BEGIN
    INSERT INTO wsp_rest_write_rate AS t (address, window_start, writes) VALUES (p_address, now(), 1)
    ON CONFLICT (address) DO UPDATE
       SET window_start = CASE WHEN t.window_start <= now() - period THEN now() ELSE t.window_start END,
           writes = CASE WHEN t.window_start <= now() - period THEN 1 ELSE t.writes + 1 END
    RETURNING * INTO r;
    -- A new window now and then: drop addresses idle for a whole period.
    IF r.writes = 1 THEN
        DELETE FROM wsp_rest_write_rate WHERE window_start < now() - 2 * period;
    END IF;
    IF r.writes <= p_limit THEN
        RETURN 0;
    END IF;
    RETURN greatest(1, ceil(extract(epoch FROM r.window_start + period - now())))::integer;
END $$;
