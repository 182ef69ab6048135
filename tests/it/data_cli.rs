//! `data fetch | verify | list` and a run's own lookup, through the binary: Fashion-MNIST from
//! Debian's package (dataset-fashion-mnist, which scripts/test.sh installs) with no download,
//! served over the loopback address with its real digests, and the offline error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::common::{bin, tiny_yaml};
use super::http_server::{Reply, TestServer, closed_base};

const DEBIAN_FASHION: &str = "/usr/share/datasets/fashion-mnist";
const FASHION_FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// Debian's copy, or None outside CI when it is not installed (CI must have it).
fn debian_fashion() -> Option<PathBuf> {
    let dir = PathBuf::from(DEBIAN_FASHION);
    if FASHION_FILES.iter().all(|f| dir.join(f).is_file()) {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{DEBIAN_FASHION} is missing: scripts/test.sh installs dataset-fashion-mnist"
    );
    eprintln!("skipped: {DEBIAN_FASHION} missing (apt-get install dataset-fashion-mnist)");
    None
}

/// The binary with its cache in `cache` and `mirrors` as the only addresses, working in the
/// cache's parent (so no `./data` folder of the checkout is looked in).
fn ddpm(cache: &Path, mirrors: &str) -> Command {
    let mut cmd = bin();
    cmd.env("DDPM_EXP_DATA", cache)
        .env("DDPM_EXP_DATA_MIRRORS", mirrors)
        .current_dir(cache.parent().unwrap());
    cmd
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn tiny_spec(dir: &Path) -> PathBuf {
    let spec = dir.join("tiny.yaml");
    std::fs::write(&spec, tiny_yaml()).unwrap();
    spec
}

#[test]
fn a_run_offline_with_no_copy_exits_2_with_one_line_and_no_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let base = closed_base();
    let out = ddpm(&dir.path().join("cache"), &base)
        .arg("run")
        .arg(tiny_spec(dir.path()))
        .args([
            "--set",
            "data.dataset=mnist",
            "--set",
            "model.attention_resolutions=[14]",
        ])
        .arg("--out")
        .arg(dir.path().join("results"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    let line = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .expect("an error line");
    assert!(
        line.contains(&format!("{base}/mnist/train-images-idx3-ubyte.gz")),
        "{line}"
    );
    assert!(
        line.contains(&dir.path().join("cache").join("mnist").display().to_string()),
        "{line}"
    );
    assert!(!dir.path().join("results").exists(), "no run folder");
}

#[test]
fn fashion_mnist_is_found_in_debians_package_with_no_download() {
    let Some(_) = debian_fashion() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = ddpm(&dir.path().join("cache"), &closed_base())
        .arg("run")
        .arg(tiny_spec(dir.path()))
        .args([
            "--set",
            "data.dataset=fashion_mnist",
            "--set",
            "train.steps=4",
            "--set",
            "model.attention_resolutions=[14]",
            "--out",
        ])
        .arg(dir.path().join("results"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("download"), "{}", stderr(&out));
    let list = ddpm(&dir.path().join("cache"), &closed_base())
        .args(["data", "list"])
        .output()
        .unwrap();
    let line = stdout(&list)
        .lines()
        .find(|l| l.starts_with("fashion_mnist"))
        .map(str::to_string)
        .unwrap();
    let columns: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        columns,
        ["fashion_mnist", "verified", DEBIAN_FASHION],
        "{line}"
    );
}

#[test]
fn fetch_downloads_once_then_finds_the_cache_and_verify_refuses_a_changed_byte() {
    let Some(debian) = debian_fashion() else {
        return;
    };
    // Debian's recompressed files: they verify by their content's digests.
    let files: HashMap<String, Reply> = FASHION_FILES
        .iter()
        .map(|f| {
            let bytes = std::fs::read(debian.join(f)).unwrap();
            (format!("fashion_mnist/{f}"), Reply::Whole(bytes))
        })
        .collect();
    let server = TestServer::start(files);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let target = cache.join("fashion_mnist");
    let fetch = |extra: &[&str]| {
        ddpm(&cache, &server.base)
            .args(["data", "fetch", "fashion_mnist"])
            .args(extra)
            .output()
            .unwrap()
    };
    let first = fetch(&["--dir", target.to_str().unwrap()]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(server.requests(), 4);
    let second = fetch(&[]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(stdout(&second).trim(), target.display().to_string());
    assert_eq!(server.requests(), 4, "the cache is found: no request");

    let path = target.join("t10k-labels-idx1-ubyte.gz");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[20] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let verify = ddpm(&cache, &server.base)
        .args(["data", "verify"])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(2), "{}", stderr(&verify));
    assert!(
        stderr(&verify).contains("t10k-labels-idx1-ubyte.gz"),
        "{}",
        stderr(&verify)
    );
    assert!(stderr(&verify).contains("expected"), "{}", stderr(&verify));
}

#[test]
fn data_commands_refuse_what_they_cannot_do_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    for args in [
        vec!["data", "fetch", "digits"],
        vec!["data", "fetch", "imagenet"],
        vec!["data", "verify", "/no/such/folder"],
        vec!["data", "verify", "mnist"],
    ] {
        let out = ddpm(&cache, &closed_base()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out).lines().count(),
            1,
            "{args:?}: {}",
            stderr(&out)
        );
    }
}
