-- Wallet names were unique across the instance, so one workspace learnt of
-- another's wallet names ("already exists") and could not reuse them. They
-- are now unique within a workspace only. SQLite cannot drop a column's
-- UNIQUE constraint, so the table is rebuilt; no table refers to it.
CREATE TABLE wallets_new (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    network TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('descriptor', 'addresses')),
    external_descriptor TEXT NOT NULL,
    internal_descriptor TEXT,
    gap_limit INTEGER NOT NULL CHECK (gap_limit > 0),
    birthday INTEGER CHECK (birthday >= 0),
    created_at INTEGER NOT NULL,
    changeset TEXT,
    balance_sat INTEGER NOT NULL DEFAULT 0 CHECK (balance_sat >= 0),
    transactions INTEGER NOT NULL DEFAULT 0,
    last_sync INTEGER,
    sync_started_at INTEGER,
    UNIQUE (workspace_id, name)
) STRICT;

INSERT INTO wallets_new (id, workspace_id, name, network, kind, external_descriptor,
    internal_descriptor, gap_limit, birthday, created_at, changeset, balance_sat,
    transactions, last_sync, sync_started_at)
SELECT id, workspace_id, name, network, kind, external_descriptor,
    internal_descriptor, gap_limit, birthday, created_at, changeset, balance_sat,
    transactions, last_sync, sync_started_at
FROM wallets;

DROP TABLE wallets;
ALTER TABLE wallets_new RENAME TO wallets;
