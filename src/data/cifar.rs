//! CIFAR-10's binary batches: records of one label byte then 3072 pixel bytes
//! (1024 red, 1024 green, 1024 blue, each row-major 32×32).

use std::path::Path;

use super::{DataError, ImageSet, Split, byte_to_unit};

const SIDE: usize = 32;
const RECORD: usize = 1 + 3 * SIDE * SIDE;

pub const TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
pub const TEST_FILES: [&str; 1] = ["test_batch.bin"];

/// Appends the records of one batch file to `set`.
pub fn read_batch(path: &Path, set: &mut ImageSet) -> Result<(), DataError> {
    let bytes = std::fs::read(path).map_err(|e| {
        DataError::new(
            path,
            format!("cannot read CIFAR-10 batch (expected the binary version's file): {e}"),
        )
    })?;
    if bytes.is_empty() || bytes.len() % RECORD != 0 {
        return Err(DataError::new(
            path,
            format!(
                "{} bytes is not a whole number of {RECORD}-byte CIFAR-10 records (file cut short?)",
                bytes.len()
            ),
        ));
    }
    for record in bytes.chunks_exact(RECORD) {
        if record[0] > 9 {
            return Err(DataError::new(
                path,
                format!("label {} outside 0..=9: not a CIFAR-10 batch", record[0]),
            ));
        }
        set.labels.push(record[0]);
        set.pixels
            .extend(record[1..].iter().map(|&v| byte_to_unit(v)));
    }
    Ok(())
}

pub fn load_split(dir: &Path, split: Split) -> Result<ImageSet, DataError> {
    let files: &[&str] = match split {
        Split::Train => &TRAIN_FILES,
        Split::Test => &TEST_FILES,
    };
    let mut set = ImageSet {
        channels: 3,
        height: SIDE,
        width: SIDE,
        pixels: Vec::new(),
        labels: Vec::new(),
    };
    for name in files {
        read_batch(&dir.join(name), &mut set)?;
    }
    Ok(set)
}
