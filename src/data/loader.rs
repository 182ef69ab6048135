//! How a split is held for training: decoded in memory (every named dataset, and an image
//! folder that fits the budget), or streamed from its files (data/streaming.rs).

use serde::{Deserialize, Serialize};

use super::streaming::{StreamedFolder, StreamingBatcher};
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
    Streamed(StreamedFolder),
}

/// Opens `split` of the request: streamed when the loader says so (for `auto`, when the
/// decoded split would not fit the budget), else read into memory by [`super::load`].
pub fn open(
    request: &DataRequest,
    loader: LoaderOptions,
    split: Split,
) -> Result<Images, DataError> {
    if let (DatasetName::ImageFolder, Some(dir), Some(options)) =
        (request.dataset, &request.dir, request.folder)
        && loader.mode != LoaderMode::Memory
    {
        let folder = StreamedFolder::open(dir, options, split)?;
        let decoded = (folder.len() * folder.image_len() * 4) as u64;
        if loader.mode == LoaderMode::Stream || decoded > loader.memory_bytes {
            return Ok(Images::Streamed(folder));
        }
    }
    super::load(request, split).map(Images::InMemory)
}

impl Images {
    pub fn len(&self) -> usize {
        match self {
            Images::InMemory(set) => set.len(),
            Images::Streamed(folder) => folder.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What a run records of the split: the decoded pixels' digest in memory
    /// ([`ImageSet::sha256`]), the files' digest when streamed ([`StreamedFolder::sha256`]).
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
