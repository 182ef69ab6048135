//! `dataset: image_folder`: the user's own PNG and JPEG files under `data.dir`, found
//! recursively. Each is scaled so its short side is `image_size` and centre-cropped to a
//! square (how the paper prepared CelebA-HQ and LSUN), as grey or RGB. A fixed seeded fraction
//! is held out as the test split. A file's label is its top-level folder's index, as
//! torchvision's ImageFolder gives it (0 for files directly in `data.dir`).

use std::path::{Path, PathBuf};

use image::imageops::{self, FilterType};
use image::{ImageBuffer, Pixel};
use sha2::{Digest, Sha256};

use super::{DataError, ImageSet, Split, byte_to_unit};

/// How the folder's images are made uniform.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FolderOptions {
    /// Side of the square images, in pixels.
    pub image_size: usize,
    /// 1 (grey) or 3 (RGB).
    pub channels: usize,
    /// Fraction of the files held out as the test split (0 = none).
    pub held_out: f64,
}

/// The folder's image files (relative paths, sorted) with their labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderFiles {
    pub root: PathBuf,
    pub files: Vec<(PathBuf, u8)>,
}

const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

impl FolderFiles {
    /// Every PNG and JPEG under `root` (hidden files and folders skipped), in byte order of
    /// their relative paths, so the list is the same on every machine.
    pub fn scan(root: &Path) -> Result<FolderFiles, DataError> {
        let mut paths = Vec::new();
        walk(root, Path::new(""), &mut paths)?;
        if paths.is_empty() {
            return Err(DataError::new(
                root,
                "holds no .png, .jpg or .jpeg file (looked in every subfolder)",
            ));
        }
        paths.sort();
        let mut classes: Vec<&std::ffi::OsStr> = paths
            .iter()
            .filter(|p| p.components().count() > 1)
            .filter_map(|p| p.iter().next())
            .collect();
        classes.dedup();
        if classes.len() > 256 {
            return Err(DataError::new(
                root,
                format!(
                    "{} top-level folders: labels are bytes, at most 256 classes",
                    classes.len()
                ),
            ));
        }
        let label = |p: &Path| match p.components().count() {
            1 => 0,
            _ => classes
                .iter()
                .position(|c| Some(*c) == p.iter().next())
                .unwrap_or(0) as u8,
        };
        let files = paths.iter().map(|p| (p.clone(), label(p))).collect();
        Ok(FolderFiles {
            root: root.to_path_buf(),
            files,
        })
    }

    /// SHA-256 of the sorted relative paths, one per line: which files a run read.
    pub fn list_sha256(&self) -> String {
        let mut hasher = Sha256::new();
        for (path, _) in &self.files {
            hasher.update(path.to_string_lossy().as_bytes());
            hasher.update(b"\n");
        }
        crate::record::checksum::hex(&hasher.finalize())
    }

    /// The files of `split`: a fixed seeded shuffle, the first `held_out` fraction the test
    /// split (the same permutation as the digits', a constant seed, so every run shares it).
    pub fn split(&self, held_out: f64, split: Split) -> Vec<(PathBuf, u8)> {
        let order = super::digits::split_order(self.files.len());
        let test = (self.files.len() as f64 * held_out).round() as usize;
        let picked = match split {
            Split::Test => &order[..test],
            Split::Train => &order[test..],
        };
        picked.iter().map(|&i| self.files[i].clone()).collect()
    }
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<(), DataError> {
    let dir = root.join(rel);
    let entries =
        std::fs::read_dir(&dir).map_err(|e| DataError::new(&dir, format!("cannot list: {e}")))?;
    for entry in entries {
        let entry = entry.map_err(|e| DataError::new(&dir, format!("cannot list: {e}")))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = rel.join(&name);
        let kind = entry
            .file_type()
            .map_err(|e| DataError::new(&root.join(&path), format!("cannot stat: {e}")))?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if has_image_extension(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| EXTENSIONS.contains(&e.as_str()))
}

/// Reads `split` of the folder: every image decoded (on all cores), scaled and cropped.
pub fn load_split(
    root: &Path,
    options: FolderOptions,
    split: Split,
) -> Result<ImageSet, DataError> {
    let files = FolderFiles::scan(root)?.split(options.held_out, split);
    let paths: Vec<PathBuf> = files.iter().map(|(p, _)| root.join(p)).collect();
    let pixels = decode_all(&paths, options)?;
    Ok(ImageSet {
        channels: options.channels,
        height: options.image_size,
        width: options.image_size,
        pixels,
        labels: files.iter().map(|(_, l)| *l).collect(),
    })
}

/// Decodes `paths` in order, split over the machine's threads; the first unreadable file (in
/// list order) is the error.
pub fn decode_all(paths: &[PathBuf], options: FolderOptions) -> Result<Vec<f32>, DataError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = paths.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Vec<f32>, DataError>> = std::thread::scope(|s| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || -> Result<Vec<f32>, DataError> {
                    let mut out = Vec::new();
                    for path in part {
                        out.extend(decode(path, options)?);
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a decoder thread panicked"))
            .collect()
    });
    let mut pixels = Vec::with_capacity(paths.len() * options.channels * options.image_size.pow(2));
    for part in parts {
        pixels.extend(part?);
    }
    Ok(pixels)
}

/// One file as channel-first pixels in [−1, 1].
pub fn decode(path: &Path, options: FolderOptions) -> Result<Vec<f32>, DataError> {
    let image = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| DataError::new(path, format!("cannot read: {e}")))?
        .decode()
        .map_err(|e| DataError::new(path, format!("not a readable PNG or JPEG image: {e}")))?;
    let size = options.image_size as u32;
    Ok(match options.channels {
        1 => channel_first(&square(&image.to_luma8(), size)),
        _ => channel_first(&square(&image.to_rgb8(), size)),
    })
}

/// Scaled (bicubic) so the short side is `size`, then the centre `size`×`size` square.
fn square<P: Pixel<Subpixel = u8> + 'static>(
    image: &ImageBuffer<P, Vec<u8>>,
    size: u32,
) -> ImageBuffer<P, Vec<u8>> {
    let (w, h) = image.dimensions();
    let scale = size as f64 / w.min(h) as f64;
    let (sw, sh) = (
        ((w as f64 * scale).round() as u32).max(size),
        ((h as f64 * scale).round() as u32).max(size),
    );
    let scaled = if (sw, sh) == (w, h) {
        image.clone()
    } else {
        imageops::resize(image, sw, sh, FilterType::CatmullRom)
    };
    imageops::crop_imm(&scaled, (sw - size) / 2, (sh - size) / 2, size, size).to_image()
}

fn channel_first<P: Pixel<Subpixel = u8>>(image: &ImageBuffer<P, Vec<u8>>) -> Vec<f32> {
    let (w, h) = image.dimensions();
    let c = P::CHANNEL_COUNT as usize;
    let raw = image.as_raw();
    let mut out = Vec::with_capacity(raw.len());
    for channel in 0..c {
        for i in 0..(w * h) as usize {
            out.push(byte_to_unit(raw[i * c + channel]));
        }
    }
    out
}
