-- 001_init.sql - users, sessions, the hello-todo demo, the broadcast outbox,
-- daemon stats snapshots.  Applied by `wspulse-admin init-db` inside one
-- transaction; never edit an applied migration, add the next number instead.

CREATE TABLE wsp_users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    password_hash text NOT NULL,
    roles         text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per login.  The cookie carries the id, signed (see src/token.h);
-- revoking a row (logout, role change, user deleted) is announced on
-- NOTIFY wsp_session as 'revoke:<id>:<reason>' so every daemon closes the
-- sockets of that session.
CREATE TABLE wsp_sessions (
    id            text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
    username      text NOT NULL,
    roles         text[] NOT NULL DEFAULT '{}',
    address       text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    revoke_reason text
);
CREATE INDEX wsp_sessions_username ON wsp_sessions (username);

CREATE FUNCTION wsp_session_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('wsp_session', 'revoke:' || NEW.id || ':' || coalesce(NEW.revoke_reason, 'logout'));
    RETURN NEW;
END $$;
CREATE TRIGGER wsp_session_revoked AFTER UPDATE OF revoked_at ON wsp_sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION wsp_session_revoked();

-- A role change or a deleted user ends every live session of that user, so
-- a cookie can never carry roles the user no longer has.
CREATE FUNCTION wsp_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE wsp_sessions SET revoked_at = now(),
           revoke_reason = CASE WHEN TG_OP = 'DELETE' THEN 'deleted' ELSE 'roles' END
     WHERE username = OLD.username AND revoked_at IS NULL;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER wsp_user_roles AFTER UPDATE OF roles ON wsp_users
    FOR EACH ROW WHEN (OLD.roles IS DISTINCT FROM NEW.roles)
    EXECUTE FUNCTION wsp_user_changed();
CREATE TRIGGER wsp_user_deleted BEFORE DELETE ON wsp_users
    FOR EACH ROW EXECUTE FUNCTION wsp_user_changed();

-- Failed logins, for rate limiting per user and per address.
CREATE TABLE wsp_login_failures (
    id       bigserial PRIMARY KEY,
    username text NOT NULL,
    address  text NOT NULL,
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX wsp_login_failures_user ON wsp_login_failures (username, at);
CREATE INDEX wsp_login_failures_addr ON wsp_login_failures (address, at);

-- The hello-todo demo (jPulse's collaborative todo list).
CREATE TABLE wsp_hello_todos (
    id         bigserial PRIMARY KEY,
    title      text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    completed  boolean NOT NULL DEFAULT false,
    username   text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The broadcast outbox.  A REST mutation inserts its todo change and its
-- outbox row in ONE transaction; NOTIFY is delivered only on commit, so a
-- broadcast exists if and only if its change committed.  The payload lives
-- here, not in the NOTIFY (which carries only the id): no 8000-byte limit.
CREATE TABLE wsp_outbox (
    id         bigserial PRIMARY KEY,
    namespace  text NOT NULL CHECK (namespace LIKE '/api/1/ws/%'),
    payload    text NOT NULL,
    username   text NOT NULL DEFAULT '',
    client_id  text,              -- set: deliver only to this clientId
    origin     text NOT NULL DEFAULT '',  -- daemon id of a module broadcast
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX wsp_outbox_created ON wsp_outbox (created_at);
CREATE INDEX wsp_outbox_ns_id ON wsp_outbox (namespace, id);

CREATE FUNCTION wsp_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('wsp_outbox', NEW.id::text);
    RETURN NEW;
END $$;
CREATE TRIGGER wsp_outbox_notify AFTER INSERT ON wsp_outbox
    FOR EACH ROW EXECUTE FUNCTION wsp_outbox_notify();

-- One row per live daemon (worker), replaced every stats_interval seconds.
CREATE TABLE wsp_daemon_stats (
    daemon_id  text PRIMARY KEY,
    host       text NOT NULL,
    pid        integer NOT NULL,
    started_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    stats      jsonb NOT NULL
);
