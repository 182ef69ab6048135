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
    let Some(libtorch) = std::env::var_os("LIBTORCH") else {
        panic!(
            "the `tch` feature needs LIBTORCH (scripts/setup-tch.sh sets it in .cargo/config.toml)"
        );
    };
    let libtorch = std::path::PathBuf::from(libtorch);
    println!(
        "cargo:rustc-link-arg=-Wl,-rpath,{}",
        libtorch.join("lib").display()
    );
    compile_kernels(&libtorch);
}

/// csrc/libtorch_kernels.cpp against libtorch's own headers, with the C++ ABI it was built
/// with (torch-sys's default and override, LIBTORCH_CXX11_ABI), linked into the binaries.
#[cfg(feature = "tch")]
fn compile_kernels(libtorch: &std::path::Path) {
    const SOURCE: &str = "csrc/libtorch_kernels.cpp";
    println!("cargo:rerun-if-changed={SOURCE}");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".to_string());
    cc::Build::new()
        .cpp(true)
        .file(SOURCE)
        .include(libtorch.join("include"))
        .flag("-std=c++17")
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={abi}"))
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .warnings(false)
        .compile("ddpm_libtorch_kernels");
}

#[cfg(not(feature = "tch"))]
fn compile_kernels(_libtorch: &std::path::Path) {}

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
