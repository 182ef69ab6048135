//! `ddpm-exp data throughput DIR --image-size S`: how many images per second an image folder
//! decodes, scales and crops on this machine's cores. The figure to hold against a training
//! step's images per second (`bench`), so the loader is never what the device waits for.

use std::path::Path;
use std::time::Instant;

use crate::data::image_folder::FolderSplit;
use crate::data::image_folder::{FolderFiles, FolderOptions, decode_all};
use crate::data::streaming::{BATCHES_IN_USE, StreamingBatcher};
use crate::data::{BatchSource, Split};
use crate::error::Failure;
use crate::spec::MAX_IMAGE_SIZE;

/// One measurement: every file decoded `passes` times after an untimed warm-up pass.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DecodeThroughput {
    pub files: usize,
    pub passes: usize,
    pub threads: usize,
    pub image_size: usize,
    pub channels: usize,
    pub seconds: f64,
    pub images_per_second: f64,
}

fn check_arguments(options: FolderOptions, passes: usize) -> Result<(), Failure> {
    let size_ok = (1..=MAX_IMAGE_SIZE).contains(&options.image_size);
    if !size_ok || ![1, 3].contains(&options.channels) || passes == 0 {
        return Err(Failure::BadInput(format!(
            "--image-size 1..={MAX_IMAGE_SIZE}, --channels 1 or 3, --passes at least 1 (got {}, \
             {} and {passes})",
            options.image_size, options.channels
        )));
    }
    Ok(())
}

pub fn measure(
    dir: &Path,
    options: FolderOptions,
    passes: usize,
) -> Result<DecodeThroughput, Failure> {
    check_arguments(options, passes)?;
    let list = FolderFiles::scan(dir)?;
    let paths: Vec<_> = list.files.iter().map(|(p, _)| dir.join(p)).collect();
    // Warm-up: the page cache holds the files and the threads have run once.
    decode_all(&paths, options)?;
    let started = Instant::now();
    for _ in 0..passes {
        std::hint::black_box(decode_all(&paths, options)?);
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(DecodeThroughput {
        files: paths.len(),
        passes,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        image_size: options.image_size,
        channels: options.channels,
        seconds,
        images_per_second: (paths.len() * passes) as f64 / seconds,
    })
}

/// The streaming loader as a run drives it: batches of `batch_size`, decoded ahead within
/// `memory_bytes`.
#[derive(Debug, Clone, Copy)]
pub struct StreamedLoad {
    pub batch_size: usize,
    pub memory_bytes: u64,
}

/// The streaming loader's delivery rate: `passes` epochs of batches taken as fast as they
/// come, after one untimed epoch. Against [`measure`], what batching and prefetch cost.
pub fn measure_streamed(
    dir: &Path,
    options: FolderOptions,
    load: StreamedLoad,
    passes: usize,
) -> Result<StreamedThroughput, Failure> {
    check_arguments(options, passes)?;
    let per_batch = (load.batch_size * options.channels * options.image_size.pow(2) * 4) as u64;
    if load.batch_size == 0 || load.memory_bytes < (BATCHES_IN_USE + 1) * per_batch {
        return Err(Failure::BadInput(format!(
            "--batch-size at least 1 and --memory-mb room for {} batches of {:.1} MiB",
            BATCHES_IN_USE + 1,
            per_batch as f64 / (1 << 20) as f64
        )));
    }
    let folder = FolderSplit::open(dir, options, Split::Train)?;
    let epoch = folder.len().div_ceil(load.batch_size) as u64;
    let mut batches = StreamingBatcher::new(folder, load.batch_size, true, 0, load.memory_bytes);
    let depth = batches.depth();
    for step in 0..epoch {
        batches.batch_pixels(step)?;
    }
    let started = Instant::now();
    let timed = epoch * passes as u64;
    for step in epoch..epoch + timed {
        std::hint::black_box(batches.batch_pixels(step)?);
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(StreamedThroughput {
        batch_size: load.batch_size,
        batches: timed,
        depth,
        seconds,
        images_per_second: (timed as usize * load.batch_size) as f64 / seconds,
    })
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StreamedThroughput {
    pub batch_size: usize,
    pub batches: u64,
    /// Batches decoded ahead at most.
    pub depth: usize,
    pub seconds: f64,
    pub images_per_second: f64,
}

impl std::fmt::Display for StreamedThroughput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "streaming loader: {} batches of {} ({} decoded ahead at most): {:.1} s, {:.0} \
             images/s",
            self.batches, self.batch_size, self.depth, self.seconds, self.images_per_second
        )
    }
}

impl std::fmt::Display for DecodeThroughput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} files × {} passes to {}×{}×{} on {} threads: {:.1} s, {:.0} images/s",
            self.files,
            self.passes,
            self.image_size,
            self.image_size,
            self.channels,
            self.threads,
            self.seconds,
            self.images_per_second
        )
    }
}
