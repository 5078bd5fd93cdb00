-- A webhook Ledgersys registered in BTCPay itself (the key then holds
-- btcpay.store.webhooks.canmodifywebhooks for the store): its id there, to
-- replace its secret or delete it. NULL when the user made the webhook.
ALTER TABLE btcpay_integrations ADD COLUMN webhook_id TEXT;

-- Deliveries refused for a bad or missing signature, counted exactly. The
-- audit log gets an entry for the first few each minute and a summary for
-- the rest, so that a flood cannot fill it.
ALTER TABLE btcpay_integrations ADD COLUMN refused_deliveries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE btcpay_integrations ADD COLUMN last_refused_at INTEGER;
