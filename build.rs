//! Build facts the binary records: the Burn version resolved in Cargo.lock (for meta.json),
//! and, with the `tch` feature, libtorch's folder as the binaries' run-time search path, so
//! `ddpm-exp` and the tests find libtorch_*.so without LD_LIBRARY_PATH. (Another machine with
//! its own torch sets LD_LIBRARY_PATH, which is searched first.)

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rustc-env=DDPM_EXP_BURN_VERSION={}", burn_version());
    if std::env::var_os("CARGO_FEATURE_TCH").is_none() {
        return;
    }
    if let Some(libtorch) = std::env::var_os("LIBTORCH") {
        let lib = std::path::Path::new(&libtorch).join("lib");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
}

/// The `version` of the `burn` package in Cargo.lock ("unknown" without a lock file).
fn burn_version() -> String {
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"burn\"" {
            let version = lines.next().unwrap_or_default().trim();
            if let Some(v) = version.strip_prefix("version = \"") {
                return v.trim_end_matches('"').to_string();
            }
        }
    }
    "unknown".to_string()
}
