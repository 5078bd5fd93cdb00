-- BTCPay Server integrations: the store they read, the state of the sweep,
-- and the webhook deliveries already taken in. The API key and the webhook
-- secret live sealed in `secrets` under `btcpay.<id>.api-key` and
-- `btcpay.<id>.webhook-secret`; only their last four characters are here.
CREATE TABLE btcpay_integrations (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    store_id TEXT NOT NULL,
    -- The ledger account income is booked to.
    account TEXT NOT NULL,
    server_version TEXT NOT NULL,
    api_key_last4 TEXT NOT NULL,
    webhook_secret_last4 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_sweep_at INTEGER,
    -- Invoices created at or after this Unix second are read by the next sweep.
    sweep_cursor INTEGER NOT NULL DEFAULT 0,
    UNIQUE (workspace_id, url, store_id)
) STRICT;

-- One row per original delivery: a redelivery carries the same
-- `originalDeliveryId` and is answered without being applied again.
CREATE TABLE btcpay_deliveries (
    integration_id INTEGER NOT NULL REFERENCES btcpay_integrations (id) ON DELETE CASCADE,
    original_delivery_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    invoice_id TEXT,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (integration_id, original_delivery_id)
) STRICT;

-- BTCPay's authorize redirect flow: the callback is a cross-site form POST
-- that carries no session cookie, so a one-time `state` (stored hashed,
-- short-lived, deleted when used) says who asked and for which store.
CREATE TABLE btcpay_authorizations (
    state_hash TEXT PRIMARY KEY NOT NULL,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    store_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
