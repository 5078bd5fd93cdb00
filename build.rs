// The migrations are embedded in the binary when it is compiled; without
// this, adding one does not rebuild the crate and the old set runs.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
