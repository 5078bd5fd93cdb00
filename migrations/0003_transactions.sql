-- Imported ledger rows, as imported: the user's later classifications are a
-- layer on top and never change these.
CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    format TEXT NOT NULL,
    rows_added INTEGER NOT NULL,
    rows_present INTEGER NOT NULL,
    imported_at INTEGER NOT NULL,
    actor TEXT NOT NULL
) STRICT;

CREATE TABLE transactions (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    import_id INTEGER REFERENCES imports (id),
    -- The source's id for the row, or a hash of its content (with its
    -- occurrence number) when the source has none: re-imports are no-ops.
    source_id TEXT NOT NULL,
    account TEXT NOT NULL,
    time TEXT NOT NULL,
    kind TEXT NOT NULL,
    sats INTEGER NOT NULL CHECK (sats >= 0),
    fee_sats INTEGER NOT NULL CHECK (fee_sats >= 0),
    fiat_value TEXT,
    currency TEXT,
    fee_fiat TEXT NOT NULL,
    to_account TEXT,
    txid TEXT,
    note TEXT,
    UNIQUE (workspace_id, account, source_id)
) STRICT;
CREATE INDEX transactions_by_time ON transactions (workspace_id, time);
