//! IDX files (MNIST, Fashion-MNIST), gzip-compressed or raw.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{DataError, ImageSet, Split, byte_to_unit};

/// An IDX array of unsigned bytes: its dimensions and data.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Reads an IDX file of unsigned bytes; a gzip file (by its magic bytes) is inflated first.
pub fn read_idx(path: &Path) -> Result<IdxArray, DataError> {
    let raw = std::fs::read(path)
        .map_err(|e| DataError::new(path, format!("cannot read IDX file: {e}")))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| DataError::new(path, format!("gzip data is corrupt or cut short: {e}")))?;
        out
    } else {
        raw
    };
    parse_idx(&bytes).map_err(|m| DataError::new(path, m))
}

/// Parses IDX bytes: two zero bytes, type 0x08 (unsigned byte), rank, big-endian u32 sizes, data.
pub fn parse_idx(bytes: &[u8]) -> Result<IdxArray, String> {
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err("not an IDX file (expected magic 0x0000 then type and rank)".into());
    }
    if bytes[2] != 0x08 {
        return Err(format!(
            "IDX element type 0x{:02x} is not unsigned byte (0x08)",
            bytes[2]
        ));
    }
    let rank = bytes[3] as usize;
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return Err(format!("IDX header of rank {rank} is cut short"));
    }
    let dims: Vec<usize> = (0..rank)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    let expected: usize = dims.iter().product();
    let data = &bytes[header..];
    if data.len() != expected {
        return Err(format!(
            "IDX dims {dims:?} need {expected} bytes of data, found {}",
            data.len()
        ));
    }
    Ok(IdxArray {
        dims,
        data: data.to_vec(),
    })
}

/// `stem` with `.gz` if that exists, else the raw file.
fn find(dir: &Path, stem: &str) -> Result<PathBuf, DataError> {
    for name in [format!("{stem}.gz"), stem.to_string()] {
        let path = dir.join(&name);
        if path.is_file() {
            return Ok(path);
        }
    }
    Err(DataError::new(
        &dir.join(stem),
        "missing: expected this IDX file (raw or .gz) in the dataset folder",
    ))
}

/// Reads the images and labels of `split` from the standard file names in `dir`.
pub fn load_split(dir: &Path, split: Split) -> Result<ImageSet, DataError> {
    let prefix = match split {
        Split::Train => "train",
        Split::Test => "t10k",
    };
    let images_path = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let labels_path = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let images = read_idx(&images_path)?;
    let labels = read_idx(&labels_path)?;
    let [n, h, w] = images.dims[..] else {
        return Err(DataError::new(
            &images_path,
            format!(
                "expected 3 dimensions (count, rows, cols), found {:?}",
                images.dims
            ),
        ));
    };
    if labels.dims != [n] {
        return Err(DataError::new(
            &labels_path,
            format!(
                "expected {n} labels to match the images, found dims {:?}",
                labels.dims
            ),
        ));
    }
    Ok(ImageSet {
        channels: 1,
        height: h,
        width: w,
        pixels: images.data.iter().map(|&v| byte_to_unit(v)).collect(),
        labels: labels.data,
    })
}
