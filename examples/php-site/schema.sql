-- schema.sql - the example site's own tables and its own database login,
-- in the database wspulse uses (run once, as the database owner, after
-- `wspulse-admin init-db`).  The site's login gets the role
-- wspulse_publisher (EXECUTE on wsp_publish(), nothing else of wspulse's)
-- and rights on its own tables only.
CREATE TABLE app_users (
    name          text PRIMARY KEY,
    password_hash text NOT NULL,          -- PHP password_hash() / bcrypt
    roles         text NOT NULL DEFAULT ''
);
CREATE TABLE app_notes (
    id         bigserial PRIMARY KEY,
    author     text NOT NULL,
    body       text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 500),
    created_at timestamptz NOT NULL DEFAULT now()
);
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_site') THEN
        CREATE ROLE app_site LOGIN;
    END IF;
END $$;
GRANT wspulse_publisher TO app_site;
GRANT SELECT ON app_users TO app_site;
GRANT SELECT, INSERT ON app_notes TO app_site;
GRANT USAGE ON SEQUENCE app_notes_id_seq TO app_site;
