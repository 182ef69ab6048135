//! How a split is held for training: decoded in memory (every named dataset, and an image
//! folder that fits the budget), or streamed from its files (data/streaming.rs).

use serde::{Deserialize, Serialize};

use super::image_folder::{FolderFiles, FolderOptions, FolderSplit};
use super::streaming::StreamingBatcher;
use super::{BatchSource, Batcher, DataError, DataRequest, DatasetName, ImageSet, Split};

/// `data.loader`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoaderMode {
    /// Stream an image folder whose decoded split is larger than the budget; else memory.
    #[default]
    Auto,
    Memory,
    /// Image folders only.
    Stream,
}

/// The loader a spec asks for, with its memory budget for decoded images.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoaderOptions {
    pub mode: LoaderMode,
    pub memory_bytes: u64,
}

/// One split, as the loader holds it.
pub enum Images {
    InMemory(ImageSet),
    Streamed(FolderSplit),
}

/// Opens `split` of the request: streamed when the loader says so (for `auto`, when the
/// decoded split would not fit the budget), else read into memory by [`super::load`].
pub fn open(
    request: &DataRequest,
    loader: LoaderOptions,
    split: Split,
) -> Result<Images, DataError> {
    match (request.dataset, &request.dir, request.folder) {
        (DatasetName::ImageFolder, Some(dir), Some(options)) => {
            open_listed(&FolderFiles::scan(dir)?, options, loader, split)
        }
        _ => super::load(request, split).map(Images::InMemory),
    }
}

/// [`open`] of an image folder already scanned.
pub fn open_listed(
    list: &FolderFiles,
    options: FolderOptions,
    loader: LoaderOptions,
    split: Split,
) -> Result<Images, DataError> {
    let folder = FolderSplit::of(list, options, split)?;
    let decoded = (folder.len() * folder.image_len() * 4) as u64;
    let streams = match loader.mode {
        LoaderMode::Auto => decoded > loader.memory_bytes,
        LoaderMode::Memory => false,
        LoaderMode::Stream => true,
    };
    if streams {
        Ok(Images::Streamed(folder))
    } else {
        folder.decode_all().map(Images::InMemory)
    }
}

impl Images {
    /// What a run records of the split: the decoded pixels' digest in memory
    /// ([`ImageSet::sha256`]), the files' digest when streamed ([`FolderSplit::sha256`]).
    pub fn sha256(&self) -> Result<String, DataError> {
        match self {
            Images::InMemory(set) => Ok(set.sha256()),
            Images::Streamed(folder) => folder.sha256(),
        }
    }

    /// The seeded batches of the split; a streamed one decodes ahead within `memory_bytes`.
    pub fn batches(
        &self,
        batch_size: usize,
        random_flip: bool,
        seed: u64,
        memory_bytes: u64,
    ) -> Box<dyn BatchSource + '_> {
        match self {
            Images::InMemory(set) => Box::new(Batcher::new(set, batch_size, random_flip, seed)),
            Images::Streamed(folder) => Box::new(StreamingBatcher::new(
                folder.clone(),
                batch_size,
                random_flip,
                seed,
                memory_bytes,
            )),
        }
    }
}
