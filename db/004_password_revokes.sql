-- 004_password_revokes.sql - a new password ends the user's live sessions.
--
-- Whoever changes wsp_users.password_hash (wspulse-admin user passwd, psql,
-- another program) revokes every live session of that user in the same
-- transaction; wsp_session_revoked (001) then sends
-- NOTIFY wsp_session 'revoke:<id>:password' and every daemon closes those
-- sockets with 4401.  A stolen cookie dies with the old password.
CREATE FUNCTION wsp_user_password_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE wsp_sessions SET revoked_at = now(), revoke_reason = 'password'
     WHERE username = OLD.username AND revoked_at IS NULL;
    RETURN NEW;
END $$;
CREATE TRIGGER wsp_user_password AFTER UPDATE OF password_hash ON wsp_users
    FOR EACH ROW WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash)
    EXECUTE FUNCTION wsp_user_password_changed();
