//! Downloads against a real HTTP server on the loopback address: verified, cached, refused when
//! a byte is wrong or the connection drops, and one clear line when offline.

use std::collections::HashMap;
use std::path::Path;

use ddpm_exp::data::catalog::{Layout, RemoteFile, Source};
use ddpm_exp::data::fetch::fetch_source;
use ddpm_exp::data::verify::{FileState, check_folder};
use ddpm_exp::data::{Split, cifar, idx};
use sha2::{Digest, Sha256};

use super::common::{gzip, idx_bytes};
use super::http_server::{Reply, TestServer, closed_base};

fn sha256(bytes: &[u8]) -> String {
    ddpm_exp::record::checksum::hex(&Sha256::digest(bytes))
}

/// A 10-image MNIST-like set as its four published `.gz` files.
fn mnist_like_files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (prefix, n) in [("train", 10u32), ("t10k", 4)] {
        let pixels: Vec<u8> = (0..n * 28 * 28).map(|i| (i * 7 % 256) as u8).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        out.push((
            format!("{prefix}-images-idx3-ubyte.gz"),
            gzip(&idx_bytes(&[n, 28, 28], &pixels)),
        ));
        out.push((
            format!("{prefix}-labels-idx1-ubyte.gz"),
            gzip(&idx_bytes(&[n], &labels)),
        ));
    }
    out
}

fn source_of(name: &str, files: &[(String, Vec<u8>)], bases: &[String], layout: Layout) -> Source {
    Source {
        name: name.into(),
        files: files
            .iter()
            .map(|(file, bytes)| RemoteFile {
                name: file.clone(),
                size: bytes.len() as u64,
                sha256: sha256(bytes),
                content_sha256: None,
                bases: bases.to_vec(),
            })
            .collect(),
        layout,
    }
}

fn serve(files: &[(String, Vec<u8>)]) -> TestServer {
    TestServer::start(
        files
            .iter()
            .map(|(n, b)| (n.clone(), Reply::Whole(b.clone())))
            .collect(),
    )
}

/// Names in `dir`, partial files included.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn first_fetch_downloads_and_verifies_the_second_makes_no_request() {
    let files = mnist_like_files();
    let server = serve(&files);
    let source = source_of("mnist", &files, &[server.base.clone()], Layout::Files);
    let dir = tempfile::tempdir().unwrap();
    let got = fetch_source(&source, dir.path(), None).unwrap();
    assert_eq!(server.requests(), 4);
    assert!(check_folder(&source, &got).unwrap().verified());
    let set = idx::load_split(&got, Split::Train).unwrap();
    assert_eq!(set.len(), 10);
    let manifest = std::fs::read_to_string(got.join("manifest.json")).unwrap();
    assert!(manifest.contains(&source.files[0].sha256), "{manifest}");
    fetch_source(&source, dir.path(), None).unwrap();
    assert_eq!(
        server.requests(),
        4,
        "a verified copy is not downloaded again"
    );
}

#[test]
fn a_corrupted_byte_is_refused_and_not_kept_with_both_digests_named() {
    let files = mnist_like_files();
    let mut served = files.clone();
    let last = served[0].1.len() - 9;
    served[0].1[last] ^= 0x01;
    let server = serve(&served);
    let source = source_of("mnist", &files, &[server.base.clone()], Layout::Files);
    let dir = tempfile::tempdir().unwrap();
    let err = fetch_source(&source, dir.path(), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains(&source.files[0].sha256), "{err}");
    assert!(err.contains(&sha256(&served[0].1)), "{err}");
    assert!(!err.contains('\n'), "one line: {err}");
    let left = names_in(dir.path());
    assert!(
        left.iter()
            .all(|n| !n.starts_with("train-images") && !n.starts_with(".partial")),
        "{left:?}"
    );
}

#[test]
fn a_connection_dropped_mid_file_leaves_nothing_usable_and_the_next_fetch_completes() {
    let files = mnist_like_files();
    let cut = TestServer::start(
        files
            .iter()
            .map(|(n, b)| (n.clone(), Reply::CutShort(b.clone(), b.len() / 2)))
            .collect(),
    );
    let source = source_of("mnist", &files, &[cut.base.clone()], Layout::Files);
    let dir = tempfile::tempdir().unwrap();
    let err = fetch_source(&source, dir.path(), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("train-images-idx3-ubyte.gz"), "{err}");
    let check = check_folder(&source, dir.path()).unwrap();
    assert!(!check.usable());
    assert!(
        names_in(dir.path())
            .iter()
            .all(|n| !n.starts_with(".partial"))
    );
    // A mirror holds the dataset in a folder of its name.
    let in_folder: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(n, b)| (format!("mnist/{n}"), b.clone()))
        .collect();
    let mirror = serve(&in_folder);
    fetch_source(&source, dir.path(), Some(&[mirror.base.clone()])).unwrap();
    assert!(check_folder(&source, dir.path()).unwrap().verified());
}

#[test]
fn two_fetches_at_once_download_once_and_leftovers_of_a_killed_one_are_removed() {
    let files = mnist_like_files();
    let server = serve(&files);
    let source = source_of("mnist", &files, &[server.base.clone()], Layout::Files);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".partial-train-images-idx3-ubyte.gz-old"),
        b"x",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join(".unpacking-old")).unwrap();
    std::thread::scope(|s| {
        let a = s.spawn(|| fetch_source(&source, dir.path(), None));
        let b = s.spawn(|| fetch_source(&source, dir.path(), None));
        a.join().unwrap().unwrap();
        b.join().unwrap().unwrap();
    });
    assert_eq!(
        server.requests(),
        4,
        "the second waits for the lock, then finds the files"
    );
    let left = names_in(dir.path());
    assert!(left.iter().all(|n| !n.contains("-old")), "{left:?}");
}

#[test]
fn the_mirror_is_tried_when_the_first_address_fails() {
    let files = mnist_like_files();
    let empty = TestServer::start(HashMap::new());
    let good = serve(&files);
    let bases = [empty.base.clone(), good.base.clone()];
    let source = source_of("mnist", &files, &bases, Layout::Files);
    let dir = tempfile::tempdir().unwrap();
    fetch_source(&source, dir.path(), None).unwrap();
    assert_eq!((empty.requests(), good.requests()), (4, 4));
    let manifest = std::fs::read_to_string(dir.path().join("manifest.json")).unwrap();
    assert!(manifest.contains(&good.base), "{manifest}");
}

#[test]
fn offline_is_one_line_naming_the_address_the_folder_and_what_to_do() {
    let files = mnist_like_files();
    let base = closed_base();
    let source = source_of("mnist", &files, &[base.clone()], Layout::Files);
    let dir = tempfile::tempdir().unwrap();
    let err = fetch_source(&source, dir.path(), None)
        .unwrap_err()
        .to_string();
    assert!(!err.contains('\n'), "{err}");
    assert!(
        err.contains(&format!("{base}/train-images-idx3-ubyte.gz")),
        "{err}"
    );
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
    assert!(err.contains("by hand"), "{err}");
}

/// A `.tar.gz` of `cifar-10-batches-bin/NAME` files with these bytes.
fn cifar_tar_gz(batches: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, bytes) in batches {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        let path = format!("cifar-10-batches-bin/{name}");
        tar.append_data(&mut header, path, &bytes[..]).unwrap();
    }
    gzip(&tar.into_inner().unwrap())
}

/// CIFAR-10's binary layout: five training batches and one test batch of two 3073-byte
/// records each.
fn cifar_like_archive() -> Vec<u8> {
    let names = cifar::TRAIN_FILES.iter().chain(&cifar::TEST_FILES);
    let batches: Vec<(&str, Vec<u8>)> = names
        .enumerate()
        .map(|(i, name)| {
            let records = (0..2)
                .flat_map(|r| {
                    let mut rec = vec![((i + r) % 10) as u8];
                    rec.extend((0..3072).map(|p| ((p + 31 * i + r) % 256) as u8));
                    rec
                })
                .collect();
            (*name, records)
        })
        .collect();
    cifar_tar_gz(&batches)
}

#[test]
fn an_archive_is_unpacked_whole_recorded_in_the_manifest_and_removed() {
    let archive = vec![("cifar-10-binary.tar.gz".to_string(), cifar_like_archive())];
    let server = serve(&archive);
    let real = ddpm_exp::data::catalog::source(ddpm_exp::data::DatasetName::Cifar10).unwrap();
    let source = source_of("cifar10", &archive, &[server.base.clone()], real.layout);
    let dir = tempfile::tempdir().unwrap();
    let loader_dir = fetch_source(&source, dir.path(), None).unwrap();
    assert_eq!(loader_dir, dir.path().join("cifar-10-batches-bin"));
    assert_eq!(
        cifar::load_split(&loader_dir, Split::Train).unwrap().len(),
        10
    );
    assert!(check_folder(&source, &loader_dir).unwrap().verified());
    assert!(!dir.path().join("cifar-10-binary.tar.gz").exists());
    fetch_source(&source, dir.path(), None).unwrap();
    assert_eq!(
        server.requests(),
        1,
        "an unpacked, verified folder is not fetched again"
    );

    let batch = loader_dir.join("data_batch_3.bin");
    let mut bytes = std::fs::read(&batch).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&batch, bytes).unwrap();
    let check = check_folder(&source, &loader_dir).unwrap();
    assert!(
        matches!(check.files[2].1, FileState::Mismatch { .. }),
        "{check:?}"
    );
    assert!(check.first_mismatch().unwrap().contains("data_batch_3.bin"));
}

#[test]
fn an_archive_without_a_batch_is_refused_and_nothing_is_unpacked() {
    let only_one = cifar_tar_gz(&[("data_batch_1.bin", vec![0u8; 3073])]);
    let archive = vec![("cifar-10-binary.tar.gz".to_string(), only_one)];
    let server = serve(&archive);
    let real = ddpm_exp::data::catalog::source(ddpm_exp::data::DatasetName::Cifar10).unwrap();
    let source = source_of("cifar10", &archive, &[server.base.clone()], real.layout);
    let dir = tempfile::tempdir().unwrap();
    let err = fetch_source(&source, dir.path(), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("data_batch_2.bin"), "{err}");
    assert!(!dir.path().join("cifar-10-batches-bin").exists());
    assert!(
        names_in(dir.path())
            .iter()
            .all(|n| !n.starts_with(".unpacking"))
    );
}

#[test]
fn a_recompressed_gz_verifies_by_its_content_and_an_unpacked_copy_says_why_it_cannot() {
    let files = mnist_like_files();
    let mut source = source_of("fashion_mnist", &files, &[], Layout::Files);
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, bytes)) in files.iter().enumerate() {
        let content = idx_content(bytes);
        source.files[i].content_sha256 = Some(sha256(&content));
        // Recompressed at another level: other bytes, the same content.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, &content).unwrap();
        std::fs::write(dir.path().join(name), enc.finish().unwrap()).unwrap();
    }
    assert!(check_folder(&source, dir.path()).unwrap().verified());

    let raw = tempfile::tempdir().unwrap();
    for (name, bytes) in &files {
        std::fs::write(
            raw.path().join(name.trim_end_matches(".gz")),
            idx_content(bytes),
        )
        .unwrap();
    }
    assert!(check_folder(&source, raw.path()).unwrap().verified());
    source.files[0].content_sha256 = None;
    let check = check_folder(&source, raw.path()).unwrap();
    assert!(check.usable() && !check.verified(), "{check:?}");
    assert!(matches!(&check.files[0].1, FileState::Unverified(why) if why.contains("unpacked")));
}

fn idx_content(gz: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz), &mut out).unwrap();
    out
}
