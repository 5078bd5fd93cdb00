-- Wallet syncs that outlive the server, and BIP-329 labels.

-- Set when a sync starts, cleared in the transaction that stores its result
-- (or when it fails). A marker still set when the server starts names a
-- sync the server stopped in the middle of: it is run again from the last
-- stored state, which a sync replaces whole, so nothing is booked twice.
ALTER TABLE wallets ADD COLUMN sync_started_at INTEGER;

-- BIP-329 labels of a workspace, as imported (Sparrow, BTCPay, Core) or
-- written from the ledger's notes. A `tx` label is shown as the note of the
-- ledger rows with that txid; labels never change the stored rows.
CREATE TABLE wallet_labels (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    type TEXT NOT NULL CHECK (type IN ('tx', 'addr', 'pubkey', 'input', 'output', 'xpub')),
    ref TEXT NOT NULL,
    label TEXT NOT NULL,
    origin TEXT,
    spendable INTEGER CHECK (spendable IN (0, 1)),
    updated_at INTEGER NOT NULL,
    UNIQUE (workspace_id, type, ref)
) STRICT;
