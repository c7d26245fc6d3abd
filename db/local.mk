# Schema migrations, applied in name order by `wspulse-admin init-db`.
migrationsdir = $(pkgdatadir)/migrations
dist_migrations_DATA = db/001_init.sql db/002_presence.sql db/003_outbox_gone.sql \
	db/004_password_revokes.sql db/005_login_throttle.sql db/006_rest_write_rate.sql \
	db/007_publish.sql db/008_outbox_notify_row.sql \
	db/009_publish_batch.sql db/010_publish_limit.sql
