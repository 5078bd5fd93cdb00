//! Watched wallets through the API: checked (their first receive addresses)
//! and added, synced on demand with progress and one sync at a time, synced
//! incrementally after the first full scan, on a schedule, and resumed
//! after the server stopped in the middle of a sync.

use serde_json::{Value, json};

use crate::fakes::esplora::{Chain, FakeEsplora};
use crate::support::{Server, Session, text};
use crate::wallets::{Keys, xpub, zpub};

/// A chain paying the wallet of `seed` 100,000 then 50,000 sats.
fn paid(keys: &Keys) -> Chain {
    let mut chain = Chain::new();
    let first = chain.pay_from_outside(keys.receive(0), 100_000, 1);
    chain.mine(vec![first]);
    let second = chain.pay_from_outside(keys.receive(1), 50_000, 2);
    chain.mine(vec![second]);
    chain
}

fn set_source(server: &Server, esplora: &FakeEsplora) {
    let set = server.cli(&["chain", "set", "--esplora", &esplora.url]);
    assert!(set.status.success(), "{}", text(&set.stderr));
}

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    (status, serde_json::from_str(&body).expect("json"))
}

pub(crate) async fn add(owner: &Session, name: &str, key: &str) -> i64 {
    let (status, added) = json_of(
        owner
            .post(
                "/api/v1/workspaces/1/wallets",
                json!({"name": name, "kind": "xpub", "input": key}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 201, "{added}");
    added["id"].as_i64().expect("id")
}

/// Polls the sync status until the sync is over; the bound only keeps a
/// broken sync from hanging the test.
pub(crate) async fn finished(owner: &Session, id: i64) -> Value {
    let path = format!("/api/v1/workspaces/1/wallets/{id}/sync");
    for _ in 0..1200 {
        let (_, status) = json_of(owner.get(&path).await).await;
        if status["running"] == json!(false) && status["phase"] != json!("idle") {
            return status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the sync did not finish");
}

async fn wallet(owner: &Session, id: i64) -> Value {
    let (_, list) = json_of(owner.get("/api/v1/workspaces/1/wallets").await).await;
    list.as_array()
        .expect("list")
        .iter()
        .find(|w| w["id"] == json!(id))
        .cloned()
        .expect("listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallet_is_previewed_added_and_synced_once_at_a_time_then_incrementally() {
    let server = Server::start();
    let owner = server.owner().await;
    let key = xpub(81);
    let keys = Keys::new(&key);
    let esplora = FakeEsplora::start(paid(&keys)).await;
    set_source(&server, &esplora);

    let (status, preview) = json_of(
        owner
            .post(
                "/api/v1/workspaces/1/wallets/preview",
                json!({"kind": "xpub", "input": zpub(&key)}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200, "{preview}");
    let expected: Vec<String> = (0..5).map(|i| keys.address(i)).collect();
    assert_eq!(preview["first_addresses"], json!(expected));
    assert_eq!(preview["network"], json!("bitcoin"));
    let (_, list) = json_of(owner.get("/api/v1/workspaces/1/wallets").await).await;
    assert_eq!(list, json!([]), "a preview stores nothing");

    // Held at its first request, the first sync, started by the add, is
    // running: another is refused.
    esplora.hold();
    let id = add(&owner, "Cold", &zpub(&key)).await;
    let (status, again) = json_of(
        owner
            .post(
                "/api/v1/workspaces/1/wallets",
                json!({"name": "Cold", "kind": "xpub", "input": zpub(&key)}),
            )
            .await,
    )
    .await;
    assert_eq!((status, &again["code"]), (409, &json!("wallet_exists")));

    let path = format!("/api/v1/workspaces/1/wallets/{id}/sync");
    let (status, started) = json_of(owner.get(&path).await).await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["running"], json!(true));
    let (status, busy) = json_of(owner.post(&path, json!({})).await).await;
    assert_eq!(status, 409, "{busy}");
    assert_eq!(busy["code"], json!("sync_running"));
    esplora.release();
    let done = finished(&owner, id).await;
    assert_eq!(done["phase"], json!("done"), "{done}");
    assert_eq!(done["mode"], json!("full"));
    assert_eq!(done["transactions_found"], json!(2));
    assert_eq!(done["rows_added"], json!(2));
    // Index 0 and 1 used, then a gap of 20 on receive, asked four at a
    // time (24); 20 on change.
    assert_eq!(done["scripts_scanned"], json!(44));
    let listed = wallet(&owner, id).await;
    assert_eq!(listed["balance_sat"], json!(150_000));

    // New payments: to a used address and to one past the last used.
    {
        let mut chain = esplora.chain.lock().expect("chain");
        let again = chain.pay_from_outside(keys.receive(1), 30_000, 3);
        let later = chain.pay_from_outside(keys.receive(6), 20_000, 4);
        chain.mine(vec![again, later]);
    }
    let (status, _) = json_of(owner.post(&path, json!({})).await).await;
    assert_eq!(status, 202);
    let done = finished(&owner, id).await;
    assert_eq!(done["mode"], json!("incremental"), "{done}");
    assert_eq!(done["transactions_found"], json!(4));
    assert_eq!(done["rows_added"], json!(2));
    let listed = wallet(&owner, id).await;
    assert_eq!(listed["balance_sat"], json!(200_000));
    assert_eq!(listed["transactions"], json!(4));

    // Nothing new: nothing added.
    owner.post(&path, json!({})).await;
    let done = finished(&owner, id).await;
    assert_eq!(done["rows_added"], json!(0), "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_without_a_chain_source_or_of_another_workspaces_wallet_is_refused() {
    let server = Server::start();
    let owner = server.owner().await;
    let id = add(&owner, "Cold", &zpub(&xpub(82))).await;
    let (status, refused) = json_of(
        owner
            .post(
                &format!("/api/v1/workspaces/1/wallets/{id}/sync"),
                json!({}),
            )
            .await,
    )
    .await;
    assert_eq!((status, &refused["code"]), (422, &json!("no_chain_source")));
    let (status, missing) = json_of(
        owner
            .post("/api/v1/workspaces/1/wallets/999/sync", json!({}))
            .await,
    )
    .await;
    assert_eq!((status, &missing["code"]), (404, &json!("not_found")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_cut_short_by_a_stop_is_run_again_at_start_without_duplicates() {
    let mut server = Server::start();
    let owner = server.owner().await;
    let key = xpub(83);
    let keys = Keys::new(&key);
    let esplora = FakeEsplora::start(paid(&keys)).await;
    set_source(&server, &esplora);
    // The add starts the first sync.
    let id = add(&owner, "Cold", &zpub(&key)).await;
    let path = format!("/api/v1/workspaces/1/wallets/{id}/sync");
    finished(&owner, id).await;
    {
        let mut chain = esplora.chain.lock().expect("chain");
        let more = chain.pay_from_outside(keys.receive(2), 25_000, 5);
        chain.mine(vec![more]);
    }
    esplora.hold();
    let (status, _) = json_of(owner.post(&path, json!({})).await).await;
    assert_eq!(status, 202);
    server.terminate();

    let restarted = Server::start_in(&server.data_dir).expect("restarts");
    let log = restarted.log();
    esplora.release();
    let owner = restarted.login("owner", crate::support::PASSWORD).await;
    let done = finished(&owner, id).await;
    assert_eq!(done["phase"], json!("done"), "{done}\n{log}");
    assert_eq!(done["rows_added"], json!(1));
    let listed = wallet(&owner, id).await;
    assert_eq!(listed["transactions"], json!(3));
    assert_eq!(listed["balance_sat"], json!(175_000));
    let store = ledgersys::store::Store::open(&restarted.data_dir)
        .await
        .expect("store");
    let rows = store
        .transactions(ledgersys::store::WorkspaceId(1))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 3, "no row twice");
    assert_eq!(
        store.interrupted_wallets().await.expect("marks"),
        Vec::<i64>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_syncs_every_wallet() {
    let server = Server::start_with(&[("LEDGERSYS_WALLETS_SYNC_INTERVAL", "1s")]);
    let owner = server.owner().await;
    let key = xpub(84);
    let esplora = FakeEsplora::start(paid(&Keys::new(&key))).await;
    // Added before the source is set, the wallet is synced by the schedule.
    let id = add(&owner, "Cold", &zpub(&key)).await;
    set_source(&server, &esplora);
    let done = finished(&owner, id).await;
    assert_eq!(done["transactions_found"], json!(2), "{done}");
    let listed = wallet(&owner, id).await;
    assert_eq!(listed["balance_sat"], json!(150_000));
    assert!(listed["last_sync"].is_string());
}
