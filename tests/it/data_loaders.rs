//! Each loader on files written here in the dataset's real format, and the errors for files
//! that are missing or malformed.

use std::fs;
use std::path::Path;

use ddpm_exp::data::{self, DataRequest, DatasetName, Split, cifar, idx};

use crate::common::{gzip, idx_bytes};

fn write_mnist_like(dir: &Path, prefix: &str, compress: bool) {
    // Three 2×3 images with pixels 0, 255 and a ramp; labels 7, 1, 4.
    let mut pixels = vec![0u8; 6];
    pixels.extend([255u8; 6]);
    pixels.extend([0u8, 51, 102, 153, 204, 255]);
    let images = idx_bytes(&[3, 2, 3], &pixels);
    let labels = idx_bytes(&[3], &[7, 1, 4]);
    let (images, labels, ext) = if compress {
        (gzip(&images), gzip(&labels), ".gz")
    } else {
        (images, labels, "")
    };
    fs::write(dir.join(format!("{prefix}-images-idx3-ubyte{ext}")), images).unwrap();
    fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte{ext}")), labels).unwrap();
}

#[test]
fn idx_reader_reads_gzip_and_raw_files_alike() {
    for compress in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        write_mnist_like(dir.path(), "train", compress);
        let set = idx::load_split(dir.path(), Split::Train).unwrap();
        assert_eq!(
            (set.len(), set.channels, set.height, set.width),
            (3, 1, 2, 3)
        );
        assert_eq!(set.labels, vec![7, 1, 4]);
        assert!(set.image(0).iter().all(|&v| v == -1.0), "0 maps to −1");
        assert!(set.image(1).iter().all(|&v| v == 1.0), "255 maps to 1");
        assert!((set.image(2)[1] - (51.0 / 127.5 - 1.0)).abs() < 1e-6);
    }
}

#[test]
fn idx_errors_name_the_file_and_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let err = idx::load_split(dir.path(), Split::Test)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("t10k-images-idx3-ubyte") && err.contains("missing"),
        "{err}"
    );

    // A file cut short: the header promises 3×2×3 bytes, only 10 follow.
    write_mnist_like(dir.path(), "t10k", false);
    let path = dir.path().join("t10k-images-idx3-ubyte");
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() - 8]).unwrap();
    let err = idx::load_split(dir.path(), Split::Test)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&path.display().to_string()) && err.contains("need 18 bytes"),
        "{err}"
    );

    fs::write(&path, b"not an idx file").unwrap();
    let err = idx::read_idx(&path).unwrap_err().to_string();
    assert!(err.contains("not an IDX file"), "{err}");

    // A gzip file whose stream is cut short.
    let gz = dir.path().join("cut.gz");
    let full = gzip(&idx_bytes(&[4], &[1, 2, 3, 4]));
    fs::write(&gz, &full[..full.len() / 2]).unwrap();
    let err = idx::read_idx(&gz).unwrap_err().to_string();
    assert!(err.contains("cut.gz") && err.contains("gzip"), "{err}");
}

#[test]
fn cifar_batches_are_read_channel_first() {
    let dir = tempfile::tempdir().unwrap();
    // Two records: label, then 1024 red, 1024 green, 1024 blue bytes.
    let mut bytes = Vec::new();
    for (label, (r, g, b)) in [(3u8, (255u8, 0u8, 0u8)), (9, (0, 0, 255))] {
        bytes.push(label);
        bytes.extend(std::iter::repeat_n(r, 1024));
        bytes.extend(std::iter::repeat_n(g, 1024));
        bytes.extend(std::iter::repeat_n(b, 1024));
    }
    fs::write(dir.path().join("test_batch.bin"), &bytes).unwrap();
    let set = cifar::load_split(dir.path(), Split::Test).unwrap();
    assert_eq!(
        (set.len(), set.channels, set.height, set.width),
        (2, 3, 32, 32)
    );
    assert_eq!(set.labels, vec![3, 9]);
    let first = set.image(0);
    assert_eq!(
        (first[0], first[1024], first[2048]),
        (1.0, -1.0, -1.0),
        "red image"
    );
    let second = set.image(1);
    assert_eq!((second[0], second[2048]), (-1.0, 1.0), "blue image");

    fs::write(dir.path().join("test_batch.bin"), &bytes[..5000]).unwrap();
    let err = cifar::load_split(dir.path(), Split::Test)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("test_batch.bin") && err.contains("3073-byte"),
        "{err}"
    );

    let err = cifar::load_split(dir.path(), Split::Train)
        .unwrap_err()
        .to_string();
    assert!(err.contains("data_batch_1.bin"), "{err}");
}

#[test]
fn embedded_digits_split_into_train_and_held_out() {
    let train = data::load(&DataRequest::named(DatasetName::Digits, None), Split::Train).unwrap();
    let test = data::load(&DataRequest::named(DatasetName::Digits, None), Split::Test).unwrap();
    assert_eq!((train.len(), test.len()), (1500, 297), "1797 images in all");
    assert_eq!((train.channels, train.height, train.width), (1, 8, 8));
    let (lo, hi) = train
        .pixels
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    assert_eq!((lo, hi), (-1.0, 1.0), "0..16 maps onto [−1, 1]");
    // The first row of the CSV: its label is 0 and its first pixels 0, 0, 5, 13, which sit on
    // the 8-bit grid at round(v·255/16) = 0, 0, 80, 207.
    let at = data::digits::split_order(1797)
        .iter()
        .position(|&row| row == 0)
        .unwrap();
    let (set, i) = if at < 1500 {
        (&train, at)
    } else {
        (&test, at - 1500)
    };
    assert_eq!(set.labels[i], 0);
    assert_eq!(
        &set.image(i)[..4],
        &[-1.0, -1.0, 80.0 / 127.5 - 1.0, 207.0 / 127.5 - 1.0]
    );
    assert!(train.labels.iter().chain(&test.labels).all(|&l| l <= 9));
}

#[test]
fn digits_are_held_out_from_the_whole_file_not_its_last_writers() {
    let order = data::digits::split_order(1797);
    let mut seen = order.clone();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..1797).collect::<Vec<_>>(),
        "a permutation of the rows"
    );
    assert_eq!(
        order,
        data::digits::split_order(1797),
        "the same every time"
    );
    // Writers fill the file in blocks: every sixth of it gives held-out images, and every
    // class has a share close to its 1/10 (at least 15 of the 297).
    let held_out = &order[1500..];
    for sixth in 0..6 {
        let rows = sixth * 300..(sixth + 1) * 300;
        let n = held_out.iter().filter(|&&r| rows.contains(&r)).count();
        assert!(n >= 25, "rows {rows:?} give {n} held-out images");
    }
    let test = data::load(&DataRequest::named(DatasetName::Digits, None), Split::Test).unwrap();
    for class in 0..10 {
        let n = test.labels.iter().filter(|&&l| l == class).count();
        assert!(n >= 15, "class {class}: {n} held-out images");
    }
    // Pinned: a change to the shuffle (a rand upgrade) would silently change every run's
    // data; it must show up here first. (Runs also record the digest and refuse to resume
    // or be evaluated on other data.)
    assert_eq!(
        &test.sha256()[..16],
        PINNED_DIGITS_TEST_SHA256,
        "the held-out digits changed"
    );
}

/// The first 16 hex digits of the held-out digits' `ImageSet::sha256`.
const PINNED_DIGITS_TEST_SHA256: &str = "3e9a50bbc933d115";

#[test]
fn digits_csv_errors_name_the_line() {
    let err = data::digits::parse_csv("1,2,3\n").unwrap_err();
    assert!(err.contains("line 1") && err.contains("65"), "{err}");
}
