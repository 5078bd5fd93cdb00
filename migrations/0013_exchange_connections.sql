-- Exchange accounts read over their APIs. The key and secret are sealed in
-- `secrets` (`exchange.<id>.key`, `exchange.<id>.secret`); only the key's
-- last four characters are kept here. Synced rows go to the ledger account
-- named like the connection, through the import machinery, so rows from
-- the API and from the exchange's own export files are the same rows.
CREATE TABLE exchange_connections (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL UNIQUE,
    exchange TEXT NOT NULL,
    api_url TEXT NOT NULL,
    key_last4 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- Set when a sync has read the whole history once.
    complete INTEGER NOT NULL DEFAULT 0,
    last_sync_at INTEGER,
    -- The newest entry time (Unix seconds) a finished sync read; the next
    -- sync asks from there (the import drops entries already stored).
    cursor INTEGER NOT NULL DEFAULT 0,
    -- The BTC balance the exchange reported at the last sync.
    exchange_balance_sat INTEGER
) STRICT;
