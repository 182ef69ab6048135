//! Datasets as in-memory image sets with pixels in [−1, 1], and seeded batching; where the
//! downloadable ones are found, fetched and verified.

pub mod batch_plan;
pub mod batcher;
pub mod catalog;
pub mod cifar;
pub mod digits;
pub mod download;
pub mod fetch;
pub mod idx;
pub mod image_folder;
pub mod loader;
pub mod locate;
pub mod manifest;
pub mod streaming;
pub mod unpack;
pub mod verify;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use batcher::{BatchSource, Batcher};
pub use loader::{Images, LoaderMode, LoaderOptions};

/// The datasets the harness reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetName {
    /// 8×8 handwritten digits (UCI / scikit-learn), embedded in the binary.
    Digits,
    Mnist,
    FashionMnist,
    Cifar10,
    /// The user's own PNG / JPEG files under `data.dir` (data/image_folder.rs).
    ImageFolder,
}

impl DatasetName {
    /// The name specs use (`data.dataset`).
    pub fn name(self) -> &'static str {
        match self {
            DatasetName::Digits => "digits",
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fashion_mnist",
            DatasetName::Cifar10 => "cifar10",
            DatasetName::ImageFolder => "image_folder",
        }
    }

    /// (channels, side) of the dataset's images; an image folder's come from its spec.
    pub fn fixed_shape(self) -> Option<(usize, usize)> {
        match self {
            DatasetName::Digits => Some((1, 8)),
            DatasetName::Mnist | DatasetName::FashionMnist => Some((1, 28)),
            DatasetName::Cifar10 => Some((3, 32)),
            DatasetName::ImageFolder => None,
        }
    }

    /// Every dataset, in the order `data list` shows them.
    pub const ALL: [DatasetName; 5] = [
        DatasetName::Digits,
        DatasetName::Mnist,
        DatasetName::FashionMnist,
        DatasetName::Cifar10,
        DatasetName::ImageFolder,
    ];

    /// The dataset `data.dataset` (or a command line) names.
    pub fn named(name: &str) -> Option<DatasetName> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

/// Images stored channel-first, one after another, with pixels scaled to [−1, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub pixels: Vec<f32>,
    pub labels: Vec<u8>,
}

impl ImageSet {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }
    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.image_len();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// SHA-256 (hex) of the images, in order, with their shape and labels: what a run records
    /// to know later that it is looking at the data it was trained on.
    pub fn sha256(&self) -> String {
        let mut hasher = Sha256::new();
        for dim in [self.len(), self.channels, self.height, self.width] {
            hasher.update((dim as u64).to_le_bytes());
        }
        for v in &self.pixels {
            hasher.update(v.to_le_bytes());
        }
        hasher.update(&self.labels);
        crate::record::checksum::hex(&hasher.finalize())
    }
}

/// An 8-bit intensity 0..=255 mapped linearly onto [−1, 1].
pub fn byte_to_unit(v: u8) -> f32 {
    v as f32 / 127.5 - 1.0
}

/// A data file that is missing or not what it should be.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DataError {
    pub path: String,
    pub message: String,
}

impl DataError {
    pub fn new(path: &Path, message: impl Into<String>) -> Self {
        Self {
            path: path.display().to_string(),
            message: message.into(),
        }
    }
}

/// A data file is the user's input.
impl crate::error::Cause for DataError {
    fn is_bad_input(&self) -> bool {
        true
    }
}

/// What a spec asks to read: the dataset, its folder, and for an image folder how its images
/// are made uniform.
#[derive(Debug, Clone, PartialEq)]
pub struct DataRequest {
    pub dataset: DatasetName,
    pub dir: Option<PathBuf>,
    pub folder: Option<image_folder::FolderOptions>,
}

impl DataRequest {
    /// One of the named datasets, from `dir` or where it is found.
    pub fn named(dataset: DatasetName, dir: Option<&Path>) -> Self {
        Self {
            dataset,
            dir: dir.map(Path::to_path_buf),
            folder: None,
        }
    }

    /// (channels, side) of the images.
    pub fn image_shape(&self) -> (usize, usize) {
        match (self.dataset.fixed_shape(), &self.folder) {
            (Some(shape), _) => shape,
            (None, Some(o)) => (o.channels, o.image_size),
            (None, None) => (3, 0),
        }
    }
}

/// Reads `split` of the request: an image folder from its `dir`; a named dataset from `dir`,
/// or from where it is found (locate::locate: the cache, a packaged copy, else a download into
/// the cache).
pub fn load(request: &DataRequest, split: Split) -> Result<ImageSet, DataError> {
    let dataset = request.dataset;
    match (dataset, &request.dir, request.folder) {
        (DatasetName::Digits, _, _) => return Ok(digits::embedded(split)),
        (DatasetName::ImageFolder, Some(dir), Some(options)) => {
            return image_folder::load_split(dir, options, split);
        }
        (DatasetName::ImageFolder, _, _) => {
            return Err(DataError {
                path: "data.dir".into(),
                message: "image_folder needs data.dir and data.image_size".into(),
            });
        }
        _ => {}
    }
    let dir: PathBuf = match &request.dir {
        Some(dir) => locate::check_given(dataset, dir)?,
        None => locate::locate(dataset, &locate::Places::from_env())?,
    };
    match dataset {
        DatasetName::Cifar10 => cifar::load_split(&dir, split),
        _ => idx::load_split(&dir, split),
    }
}
