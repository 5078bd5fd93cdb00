#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ledgersys::sources::fuzzing::check("bitfinex-ledgers", data)
});
