//! The `annealscope` binary: everything lives in the library; this only hands over (to
//! the command line on the desktop, to the web page's entry point on `wasm32`).

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    annealscope::cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {
    annealscope::web::start();
}
