//! The streaming loader: an image folder too large to hold decoded is read from its files as
//! training goes. A thread decodes the batches ahead of the trainer, each batch split over
//! worker threads, and keeps a few finished batches waiting, as many as the memory budget
//! allows up to [`MAX_PREFETCH`].
//! Which files make a batch and which are flipped come from the same plan as in memory
//! (data/batch_plan.rs), and decoding is the same function, so a streamed run sees exactly the
//! batches an in-memory run would, and a resume at any step picks up the same sequence.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use super::DataError;
use super::batch_plan::{BatchPlan, push_image};
use super::batcher::BatchSource;
use super::image_folder::{FolderOptions, FolderSplit, decode, in_parallel, not_an_image};
use crate::progress::Progress;

impl FolderSplit {
    /// SHA-256 (hex) of the split without decoding it: the image shape, then each file's
    /// relative path, label and content digest, in order. Every file is read once (on all
    /// cores) and its header checked, so a missing or unreadable file is found before
    /// training starts (one damaged past its header, only when its batch is decoded).
    pub fn sha256(&self) -> Result<String, DataError> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut hasher = Sha256::new();
        for dim in [self.len(), self.options.channels, self.options.image_size] {
            hasher.update((dim as u64).to_le_bytes());
        }
        let label = format!("data: hashing {} files", self.len());
        let mut progress = Progress::new(&label, 0, self.len() as u64);
        let mut done = 0;
        for chunk in self.files.chunks(256 * threads) {
            let digests = in_parallel(chunk, threads, |(path, _)| file_sha256(&self.root, path))?;
            for ((path, label), digest) in chunk.iter().zip(digests) {
                hasher.update(path.to_string_lossy().as_bytes());
                hasher.update([b'\n', *label]);
                hasher.update(digest);
            }
            done += chunk.len();
            progress.update(done as u64, "");
        }
        progress.finish();
        Ok(crate::record::checksum::hex(&hasher.finalize()))
    }
}

/// The file's SHA-256, once its header has been read as a PNG's or JPEG's (a file that is no
/// image is named now rather than when its first batch comes).
fn file_sha256(root: &Path, relative: &Path) -> Result<[u8; 32], DataError> {
    let path = root.join(relative);
    let bytes =
        std::fs::read(&path).map_err(|e| DataError::new(&path, format!("cannot read: {e}")))?;
    image::ImageReader::new(std::io::Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(image::ImageError::IoError)
        .and_then(|reader| reader.into_dimensions())
        .map_err(|e| not_an_image(&path, e))?;
    Ok(Sha256::digest(&bytes).into())
}

fn panicked() -> DataError {
    DataError::new(Path::new("image loader"), "a decoding thread panicked")
}

/// Batches of the budget that are not waiting: the one being decoded, counted twice (its
/// images, then the batch assembled from them), and the one the trainer holds.
pub const BATCHES_IN_USE: u64 = 3;

/// The most batches decoded ahead however large the budget: enough to ride out a slow file
/// or a busy moment; more would only decode further ahead (epochs ahead, for a small set).
pub const MAX_PREFETCH: u64 = 8;

/// How many decoded batches may wait for the trainer within `budget_bytes`: at least 1, at
/// most [`MAX_PREFETCH`].
pub fn prefetch_depth(budget_bytes: u64, batch_bytes: u64) -> usize {
    (budget_bytes / batch_bytes.max(1))
        .saturating_sub(BATCHES_IN_USE)
        .clamp(1, MAX_PREFETCH) as usize
}

/// Batches of a [`FolderSplit`], decoded ahead of the trainer.
pub struct StreamingBatcher {
    folder: Arc<FolderSplit>,
    plan: BatchPlan,
    depth: usize,
    workers: usize,
    prefetch: Option<Prefetch>,
}

impl StreamingBatcher {
    /// `budget_bytes` bounds the decoded batches held at once (see [`prefetch_depth`]).
    pub fn new(
        folder: FolderSplit,
        batch_size: usize,
        random_flip: bool,
        seed: u64,
        budget_bytes: u64,
    ) -> Self {
        let batch_bytes = (batch_size * folder.image_len() * 4) as u64;
        Self {
            plan: BatchPlan::new(folder.len(), batch_size, random_flip, seed),
            folder: Arc::new(folder),
            depth: prefetch_depth(budget_bytes, batch_bytes),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            prefetch: None,
        }
    }

    /// Batches decoded ahead and not yet taken (at most the depth).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The prefetch thread, started at `step` unless it is already there.
    fn prefetch_at(&mut self, step: u64) -> &mut Prefetch {
        if self.prefetch.as_ref().is_none_or(|p| p.next != step) {
            self.prefetch = None; // stops the old thread first
            let job = DecodeJob {
                folder: self.folder.clone(),
                plan: self.plan.clone(),
                workers: self.workers,
            };
            self.prefetch = Some(Prefetch::start(job, step, self.depth));
        }
        self.prefetch.as_mut().unwrap()
    }
}

impl BatchSource for StreamingBatcher {
    fn batch_shape(&self) -> [usize; 4] {
        let FolderOptions {
            image_size: s,
            channels: c,
            ..
        } = self.folder.options;
        [self.plan.batch_size(), c, s, s]
    }

    fn batch_pixels(&mut self, step: u64) -> Result<Vec<f32>, DataError> {
        let prefetch = self.prefetch_at(step);
        let received = prefetch.batches.as_ref().and_then(|r| r.recv().ok());
        prefetch.next += 1;
        match received {
            Some(Ok(pixels)) => Ok(pixels),
            // The thread stops after an error: the next call starts a fresh one.
            Some(Err(e)) => {
                self.prefetch = None;
                Err(e)
            }
            None => {
                self.prefetch = None;
                Err(panicked())
            }
        }
    }
}

/// What the prefetch thread needs to decode any step's batch.
struct DecodeJob {
    folder: Arc<FolderSplit>,
    plan: BatchPlan,
    workers: usize,
}

impl DecodeJob {
    /// The batch of `step`: its files decoded over the workers (flipped where the plan says),
    /// then put together in order.
    fn batch(&mut self, step: u64) -> Result<Vec<f32>, DataError> {
        let examples = self.plan.examples(step);
        let folder = &*self.folder;
        let per_image = |&(index, flip): &(usize, bool)| {
            let path = folder.root.join(&folder.files[index].0);
            let image = decode(&path, folder.options)?;
            if !flip {
                return Ok(image);
            }
            let mut out = Vec::with_capacity(image.len());
            push_image(&mut out, &image, folder.options.image_size, true);
            Ok(out)
        };
        let images = in_parallel(&examples, self.workers, per_image)?;
        Ok(images.concat())
    }
}

/// A running prefetch thread and the channel its batches arrive on.
struct Prefetch {
    /// The step whose batch arrives next.
    next: u64,
    batches: Option<Receiver<Result<Vec<f32>, DataError>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Prefetch {
    fn start(mut job: DecodeJob, first: u64, depth: usize) -> Self {
        let (sender, batches) = sync_channel(depth);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("ddpm-exp image loader".into())
            .spawn(move || produce(&mut job, first, &sender, &stopped))
            .expect("the loader thread starts");
        Self {
            next: first,
            batches: Some(batches),
            stop,
            thread: Some(thread),
        }
    }
}

/// Decodes the batches of `first`, `first + 1`, … until told to stop, the receiver is gone, or
/// a file cannot be read (that error is the last thing sent).
fn produce(
    job: &mut DecodeJob,
    first: u64,
    sender: &SyncSender<Result<Vec<f32>, DataError>>,
    stop: &AtomicBool,
) {
    for step in first.. {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let batch = job.batch(step);
        let failed = batch.is_err();
        if sender.send(batch).is_err() || failed {
            return;
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Dropping the receiver wakes a thread blocked on a full channel.
        drop(self.batches.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
