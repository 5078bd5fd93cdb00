//! The API key check: Ledgersys reads, so a key that could change a store,
//! spend from a wallet or administer the server is refused, naming the
//! permission to remove.

/// Permissions a key may hold, with or without a `:<storeId>` scope.
const ALLOWED: [&str; 4] = [
    "btcpay.store.canviewstoresettings",
    "btcpay.store.canviewinvoices",
    "btcpay.store.webhooks.canmodifywebhooks",
    "btcpay.store.canviewwallet",
];

/// Permissions that let the key read the store's invoices.
const READS_INVOICES: [&str; 2] = [
    "btcpay.store.canviewstoresettings",
    "btcpay.store.canviewinvoices",
];

/// What Ledgersys asks for.
pub fn minimum(store_id: &str) -> String {
    format!("btcpay.store.canviewstoresettings:{store_id}")
}

/// The one write permission Ledgersys accepts, and only to register (and
/// later re-key or delete) its own webhook.
pub const MODIFY_WEBHOOKS: &str = "btcpay.store.webhooks.canmodifywebhooks";

/// Ok when the key holds only read permissions and can read `store_id`'s
/// invoices; otherwise a message saying what to change. `registers`: the
/// user lets Ledgersys register its own webhook, so the key must hold
/// [`MODIFY_WEBHOOKS`] for the store; otherwise it must not hold it.
pub fn check(permissions: &[String], store_id: &str, registers: bool) -> Result<(), String> {
    let covers = |p: &String, wanted: &[&str]| {
        let (base, scope) = p.split_once(':').unwrap_or((p, ""));
        wanted.contains(&base) && (scope.is_empty() || scope == store_id)
    };
    for permission in permissions {
        let base = permission.split(':').next().unwrap_or("");
        if base == MODIFY_WEBHOOKS && !registers {
            return Err(format!(
                "the API key holds the permission {permission}, which Ledgersys accepts only \
                 when it registers its own webhook; remove it in BTCPay, or choose to let \
                 Ledgersys register the webhook"
            ));
        }
        if !ALLOWED.contains(&base) {
            return Err(format!(
                "the API key holds the permission {permission}, more than Ledgersys needs; \
                 remove it in BTCPay (Account → API Keys) or create a key with only {}",
                minimum(store_id)
            ));
        }
    }
    if registers && !permissions.iter().any(|p| covers(p, &[MODIFY_WEBHOOKS])) {
        return Err(format!(
            "to register its webhook Ledgersys needs the permission {MODIFY_WEBHOOKS}:{store_id}; \
             add it to the key, or create the webhook in BTCPay yourself"
        ));
    }
    let reads = permissions.iter().any(|p| covers(p, &READS_INVOICES));
    if !reads {
        return Err(format!(
            "the API key cannot read the invoices of store {store_id}; give it {}",
            minimum(store_id)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn read_only_store_keys_pass() {
        assert_eq!(
            check(
                &perms(&["btcpay.store.canviewstoresettings:S1"]),
                "S1",
                false
            ),
            Ok(())
        );
        let with_webhooks = perms(&[
            "btcpay.store.canviewinvoices:S1",
            "btcpay.store.webhooks.canmodifywebhooks:S1",
        ]);
        assert_eq!(check(&with_webhooks, "S1", true), Ok(()));
        // Only when Ledgersys registers its webhook.
        let err = check(&with_webhooks, "S1", false).expect_err("not registering");
        assert!(err.contains("canmodifywebhooks"), "{err}");
        let err = check(&perms(&["btcpay.store.canviewinvoices:S1"]), "S1", true)
            .expect_err("cannot register");
        assert!(err.contains("canmodifywebhooks:S1"), "{err}");
    }

    #[test]
    fn a_write_permission_is_named_in_the_refusal() {
        for extra in [
            "btcpay.store.canmodifystoresettings:S1",
            "btcpay.store.canmodifyinvoices:S1",
            "btcpay.server.canmodifyserversettings",
            "unrestricted",
        ] {
            let err = check(
                &perms(&["btcpay.store.canviewstoresettings:S1", extra]),
                "S1",
                true,
            )
            .expect_err(extra);
            assert!(err.contains(extra), "{err}");
        }
    }

    #[test]
    fn a_key_for_another_store_is_refused() {
        let err =
            check(&perms(&["btcpay.store.canviewinvoices:S2"]), "S1", false).expect_err("scope");
        assert!(
            err.contains("btcpay.store.canviewstoresettings:S1"),
            "{err}"
        );
        assert!(check(&[], "S1", false).is_err());
    }
}
