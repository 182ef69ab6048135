//! With the `tch` feature, records libtorch's folder as the binaries' run-time search path,
//! so `ddpm-exp` and the tests find libtorch_*.so without LD_LIBRARY_PATH. (Another machine
//! with its own torch sets LD_LIBRARY_PATH, which is searched first.)

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if std::env::var_os("CARGO_FEATURE_TCH").is_none() {
        return;
    }
    if let Some(libtorch) = std::env::var_os("LIBTORCH") {
        let lib = std::path::Path::new(&libtorch).join("lib");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
}
