-- 005_login_throttle.sql - login limiting that slows an attacker without
-- locking the real user out.
--
-- One row per (address, user name) and one per address (username = '').
-- An attempt is counted BEFORE its password is checked, in one locked
-- statement (wsp_login_begin), so concurrent wrong passwords cannot overtake
-- the limit: with a limit of 5, 40 concurrent attempts get 5 checks and 35
-- answers of 429.  A correct password gives its attempt back
-- (wsp_login_succeeded).  Reaching the limit blocks that key for
-- login_window seconds; each further attempt after a block ends doubles the
-- next block, up to 16 x login_window.  A key with no attempt and no block
-- for a whole window is forgotten.  Nothing is keyed by user name alone: a
-- user attacked from other addresses still logs in from their own.
DROP TABLE wsp_login_failures;

CREATE TABLE wsp_login_throttle (
    address       text NOT NULL,
    username      text NOT NULL,          -- '' = the address as a whole
    attempts      integer NOT NULL DEFAULT 0,
    last_at       timestamptz NOT NULL DEFAULT now(),
    blocked_until timestamptz,
    PRIMARY KEY (address, username)
);

-- Count one attempt for a key with limit p_max.  Returns 0 when the attempt
-- may go ahead, else the seconds until that key takes attempts again.
CREATE FUNCTION wsp_login_take(p_address text, p_username text, p_max integer, p_window integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    r wsp_login_throttle;
    w interval := p_window * interval '1 second';
BEGIN
    INSERT INTO wsp_login_throttle (address, username) VALUES (p_address, p_username)
        ON CONFLICT DO NOTHING;
    SELECT * INTO r FROM wsp_login_throttle
     WHERE address = p_address AND username = p_username FOR UPDATE;
    IF greatest(r.last_at, coalesce(r.blocked_until, r.last_at)) < now() - w THEN
        r.attempts := 0;
        r.blocked_until := NULL;
    END IF;
    IF r.blocked_until > now() THEN
        RETURN greatest(1, ceil(extract(epoch FROM r.blocked_until - now())))::integer;
    END IF;
    r.attempts := r.attempts + 1;
    IF r.attempts >= p_max THEN
        r.blocked_until := now() + w * least(2 ^ least(r.attempts - p_max, 4), 16);
    END IF;
    UPDATE wsp_login_throttle SET attempts = r.attempts, last_at = now(), blocked_until = r.blocked_until
     WHERE address = p_address AND username = p_username;
    RETURN 0;
END $$;

-- Give back the attempt a correct password used.
CREATE FUNCTION wsp_login_give(p_address text, p_username text, p_max integer)
RETURNS void LANGUAGE sql AS $$
    UPDATE wsp_login_throttle
       SET attempts = greatest(attempts - 1, 0),
           blocked_until = CASE WHEN attempts - 1 < p_max THEN NULL ELSE blocked_until END
     WHERE address = p_address AND username = p_username;
$$;

-- Before checking a password: the address (limit p_addr_max), then the
-- address and user (limit p_max), always in that order so concurrent
-- logins never lock in opposite orders.  0 = go ahead; else Retry-After.
CREATE FUNCTION wsp_login_begin(p_address text, p_username text, p_max integer, p_addr_max integer,
                                p_window integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    wait integer;
BEGIN
    wait := wsp_login_take(p_address, '', p_addr_max, p_window);
    IF wait > 0 THEN
        RETURN wait;
    END IF;
    wait := wsp_login_take(p_address, p_username, p_max, p_window);
    IF wait > 0 THEN
        PERFORM wsp_login_give(p_address, '', p_addr_max);
    END IF;
    RETURN wait;
END $$;

-- After a correct password: that (address, user) starts afresh, and the
-- address gets its attempt back.
CREATE FUNCTION wsp_login_succeeded(p_address text, p_username text, p_addr_max integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM wsp_login_throttle WHERE address = p_address AND username = p_username;
    PERFORM wsp_login_give(p_address, '', p_addr_max);
END $$;

-- Drop keys that are forgotten (no attempt and no block for a window);
-- called after failed logins, so the table holds only one window's keys.
CREATE FUNCTION wsp_login_prune(p_window integer)
RETURNS void LANGUAGE sql AS $$
    DELETE FROM wsp_login_throttle
     WHERE greatest(last_at, coalesce(blocked_until, last_at)) < now() - p_window * interval '1 second';
$$;
