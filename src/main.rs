#![forbid(unsafe_code)]

// The static (musl) builds replace musl's allocator, which takes one lock for
// every allocation of every thread; glibc builds keep glibc's.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ledgersys::cli::main()
}
