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
