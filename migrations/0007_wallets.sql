-- Watch-only wallets. Only public descriptors are ever stored: the input is
-- checked for private material before anything is written.
CREATE TABLE wallets (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- Names are unique per instance: `wallet sync --name` takes no workspace.
    name TEXT NOT NULL UNIQUE,
    network TEXT NOT NULL,
    -- 'descriptor': BDK watches the descriptors; 'addresses': a plain list,
    -- kept one a line in external_descriptor.
    kind TEXT NOT NULL CHECK (kind IN ('descriptor', 'addresses')),
    external_descriptor TEXT NOT NULL,
    internal_descriptor TEXT,
    gap_limit INTEGER NOT NULL CHECK (gap_limit > 0),
    birthday INTEGER CHECK (birthday >= 0),
    created_at INTEGER NOT NULL,
    -- BDK's wallet state: its serde ChangeSet (for a list of addresses, the
    -- chain and transaction graph changesets), all changes merged, as JSON.
    -- Written in the same transaction as the ledger rows a sync adds.
    changeset TEXT,
    balance_sat INTEGER NOT NULL DEFAULT 0 CHECK (balance_sat >= 0),
    transactions INTEGER NOT NULL DEFAULT 0,
    last_sync INTEGER
) STRICT;
