//! Each loader on files written here in the dataset's real format, and the errors for files
//! that are missing or malformed.

use std::fs;
use std::path::Path;

use ddpm_exp::data::{self, DatasetName, Split, cifar, idx};

mod common;
use common::{gzip, idx_bytes};

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
    let train = data::load(DatasetName::Digits, None, Split::Train).unwrap();
    let test = data::load(DatasetName::Digits, None, Split::Test).unwrap();
    assert_eq!((train.len(), test.len()), (1500, 297), "1797 images in all");
    assert_eq!((train.channels, train.height, train.width), (1, 8, 8));
    let (lo, hi) = train
        .pixels
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    assert_eq!((lo, hi), (-1.0, 1.0), "0..16 maps onto [−1, 1]");
    // The first row of the CSV: its label is 0 and its first pixels 0, 0, 5, 13, which sit on
    // the 8-bit grid at round(v·255/16) = 0, 0, 80, 207.
    assert_eq!(train.labels[0], 0);
    assert_eq!(
        &train.image(0)[..4],
        &[-1.0, -1.0, 80.0 / 127.5 - 1.0, 207.0 / 127.5 - 1.0]
    );
    assert!(train.labels.iter().chain(&test.labels).all(|&l| l <= 9));
}

#[test]
fn digits_csv_errors_name_the_line() {
    let err = data::digits::parse_csv("1,2,3\n").unwrap_err();
    assert!(err.contains("line 1") && err.contains("65"), "{err}");
}
