//! `ddpm-exp data throughput DIR --image-size S`: how many images per second an image folder
//! decodes, scales and crops on this machine's cores. The figure to hold against a training
//! step's images per second (`bench`), so the loader is never what the device waits for.

use std::path::Path;
use std::time::Instant;

use crate::data::image_folder::{FolderFiles, FolderOptions, decode_all};
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

pub fn measure(
    dir: &Path,
    options: FolderOptions,
    passes: usize,
) -> Result<DecodeThroughput, Failure> {
    let size_ok = (1..=MAX_IMAGE_SIZE).contains(&options.image_size);
    if !size_ok || ![1, 3].contains(&options.channels) || passes == 0 {
        return Err(Failure::BadInput(format!(
            "--image-size 1..={MAX_IMAGE_SIZE}, --channels 1 or 3, --passes at least 1 (got {}, \
             {} and {passes})",
            options.image_size, options.channels
        )));
    }
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
