//! `annealscope-web-bindgen IN.wasm OUT_DIR`: what `wasm-bindgen --target web
//! --no-typescript --out-name annealscope` does, through wasm-bindgen's own library at the
//! exact version the app links (the `wasm-bindgen` entry of the app's Cargo.lock), with
//! this tool's dependencies pinned by its own Cargo.lock.

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let [input, out_dir] = &args[..] else {
        bail!("usage: annealscope-web-bindgen IN.wasm OUT_DIR");
    };
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(input)
        .web(true)?
        .typescript(false)
        // As the command line does: the glue finds the wasm beside itself.
        .omit_default_module_path(false)
        .out_name("annealscope")
        .generate(out_dir)
        .with_context(|| format!("generating the JS glue of {}", input.to_string_lossy()))
}
