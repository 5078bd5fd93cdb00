#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    ledgersys::cli::main()
}
