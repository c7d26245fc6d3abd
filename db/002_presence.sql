-- Cluster-wide presence (src/presence.h).  Each daemon worker keeps one row
-- per namespace: how many sockets it holds there and the distinct usernames
-- of its logged-in ones.  A worker rewrites its changed rows at most every
-- 100 ms (then NOTIFY wsp_presence, payload its daemon id) and touches
-- updated_at every second; a row not touched for 3 s belongs to a worker
-- that is gone and is left out of every count.
CREATE TABLE wsp_presence (
    daemon_id  text NOT NULL,
    namespace  text NOT NULL CHECK (namespace LIKE '/api/1/ws/%'),
    clients    integer NOT NULL CHECK (clients >= 0),
    users      jsonb NOT NULL DEFAULT '[]',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (daemon_id, namespace)
);
CREATE INDEX wsp_presence_ns ON wsp_presence (namespace, updated_at);
