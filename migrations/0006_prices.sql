-- BTC prices per fiat currency, shared by every workspace: a price is a
-- public fact, not part of anyone's books. Each price names its source.
CREATE TABLE prices (
    currency TEXT NOT NULL CHECK (length(currency) = 3 AND currency = upper(currency)),
    -- 'day': the close of the UTC calendar day starting at `at`;
    -- 'hour': the price at the instant `at` (the close of the hour before it).
    resolution TEXT NOT NULL CHECK (resolution IN ('day', 'hour')),
    at INTEGER NOT NULL,
    -- An exact decimal, never a float.
    price TEXT NOT NULL,
    source TEXT NOT NULL,
    stored_at INTEGER NOT NULL,
    PRIMARY KEY (currency, resolution, at)
) STRICT, WITHOUT ROWID;

-- A price per BTC the user set by hand for one row, named by the row's
-- account and source id. It is a layer on top: the imported row is never
-- changed, the override wins over the table and the row's own value, and
-- every change is in the audit log.
CREATE TABLE price_overrides (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    account TEXT NOT NULL,
    source_id TEXT NOT NULL,
    price TEXT NOT NULL,
    currency TEXT NOT NULL CHECK (length(currency) = 3 AND currency = upper(currency)),
    set_at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    PRIMARY KEY (workspace_id, account, source_id)
) STRICT;
