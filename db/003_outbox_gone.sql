-- 003_outbox_gone.sql - what pruning took from the outbox, per namespace.
-- The daemons' outbox pruning records here the highest pruned id of each
-- namespace (rows addressed to a clientId are never replayed and do not
-- count).  A ?since= catch-up whose since is below it tells the client
-- which range may be gone (a history-gap message) instead of silently
-- sending what is left.
CREATE TABLE wsp_outbox_gone (
    namespace  text PRIMARY KEY,
    upto       bigint NOT NULL
);
