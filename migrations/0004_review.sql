-- The user's decisions about imported rows: pairing, unpairing,
-- reclassifying, picking lots and allocating basis to wallets. Imported rows never change; these are a
-- layer on top. A decision is never deleted: undoing it records who undid it
-- and when, so the history of every change stays readable.
CREATE TABLE adjustments (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    action TEXT NOT NULL CHECK (action IN ('pair', 'unpair', 'reclassify', 'pick_lots', 'allocate')),
    -- The decision's content as JSON, naming rows by their `transactions.id`.
    detail TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    undone_by TEXT,
    undone_at INTEGER,
    CHECK ((undone_by IS NULL) = (undone_at IS NULL))
) STRICT;
CREATE INDEX adjustments_by_workspace ON adjustments (workspace_id, id);

-- Days are judged in this zone (an IANA name); NULL means the
-- jurisdiction's own default.
ALTER TABLE workspaces ADD COLUMN timezone TEXT;
