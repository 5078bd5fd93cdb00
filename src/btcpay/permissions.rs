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

/// Ok when the key holds only read permissions and can read `store_id`'s
/// invoices; otherwise a message saying what to change.
pub fn check(permissions: &[String], store_id: &str) -> Result<(), String> {
    for permission in permissions {
        let base = permission.split(':').next().unwrap_or("");
        if !ALLOWED.contains(&base) {
            return Err(format!(
                "the API key holds the permission {permission}, more than Ledgersys needs; \
                 remove it in BTCPay (Account → API Keys) or create a key with only {}",
                minimum(store_id)
            ));
        }
    }
    let reads = permissions.iter().any(|p| {
        let (base, scope) = p.split_once(':').unwrap_or((p, ""));
        READS_INVOICES.contains(&base) && (scope.is_empty() || scope == store_id)
    });
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
            check(&perms(&["btcpay.store.canviewstoresettings:S1"]), "S1"),
            Ok(())
        );
        assert_eq!(
            check(
                &perms(&[
                    "btcpay.store.canviewinvoices:S1",
                    "btcpay.store.webhooks.canmodifywebhooks:S1"
                ]),
                "S1"
            ),
            Ok(())
        );
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
            )
            .expect_err(extra);
            assert!(err.contains(extra), "{err}");
        }
    }

    #[test]
    fn a_key_for_another_store_is_refused() {
        let err = check(&perms(&["btcpay.store.canviewinvoices:S2"]), "S1").expect_err("scope");
        assert!(
            err.contains("btcpay.store.canviewstoresettings:S1"),
            "{err}"
        );
        assert!(check(&[], "S1").is_err());
    }
}
