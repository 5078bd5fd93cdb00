#![no_main]

// The private-material detector reads whatever a user pastes or uploads
// before anything else does: it must answer for any bytes, never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(found) = ledgersys::sources::chain::private::detect(&text) {
        let _ = ledgersys::sources::chain::private::refusal(found);
    }
});
