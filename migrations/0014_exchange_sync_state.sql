-- Each exchange adapter keeps its own cursor (which page, which window,
-- which stream) as JSON, in place of the single time `cursor` held; it is
-- written in the same transaction as the rows it follows, so a killed sync
-- resumes exactly where its last committed batch ended. The last failure
-- is kept for the Exchanges page.
ALTER TABLE exchange_connections DROP COLUMN cursor;
ALTER TABLE exchange_connections ADD COLUMN state TEXT NOT NULL DEFAULT 'null';
ALTER TABLE exchange_connections ADD COLUMN last_error TEXT;
ALTER TABLE exchange_connections ADD COLUMN last_error_at INTEGER;
