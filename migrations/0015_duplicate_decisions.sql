-- Two more decisions: a row is a second copy of another (`duplicate`), or
-- an entry of its own (`distinct`). SQLite cannot change a CHECK
-- constraint, so the table is rebuilt; no table refers to it.
CREATE TABLE adjustments_new (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    action TEXT NOT NULL CHECK (action IN ('pair', 'unpair', 'reclassify', 'pick_lots', 'allocate', 'duplicate', 'distinct')),
    -- The decision's content as JSON, naming rows by their `transactions.id`.
    detail TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    undone_by TEXT,
    undone_at INTEGER,
    CHECK ((undone_by IS NULL) = (undone_at IS NULL))
) STRICT;

INSERT INTO adjustments_new (id, workspace_id, action, detail, actor, created_at, undone_by, undone_at)
SELECT id, workspace_id, action, detail, actor, created_at, undone_by, undone_at
FROM adjustments;

DROP TABLE adjustments;
ALTER TABLE adjustments_new RENAME TO adjustments;
CREATE INDEX adjustments_by_workspace ON adjustments (workspace_id, id);
