//! `dataset: image_folder`: the user's own PNG and JPEG files under `data.dir`, found
//! recursively. Each is scaled so its short side is `image_size` and centre-cropped to a
//! square (how the paper prepared CelebA-HQ and LSUN), as grey or RGB. A fixed seeded fraction
//! is held out as the test split. A file's label is its top-level folder's index, as
//! torchvision's ImageFolder gives it (0 for files directly in `data.dir`).

use std::path::{Path, PathBuf};

use image::imageops::{self, FilterType};
use image::{ImageBuffer, ImageDecoder, Pixel};
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
    /// Every PNG and JPEG under `root` (hidden files and folders skipped, symbolic links
    /// followed), sorted by relative path, so the list is the same on every machine.
    pub fn scan(root: &Path) -> Result<FolderFiles, DataError> {
        let mut paths = Vec::new();
        walk(root, Path::new(""), 0, &mut paths)?;
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
        // Labels are bytes; past 256 classes (a sharded folder) they carry nothing: all 0.
        if classes.len() > 256 {
            classes.clear();
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

/// Folders nested deeper than this are taken for a symbolic-link loop.
const MAX_DEPTH: usize = 64;

/// Collects image paths under `root/rel`, following symbolic links.
fn walk(root: &Path, rel: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), DataError> {
    let dir = root.join(rel);
    if depth > MAX_DEPTH {
        return Err(DataError::new(
            &dir,
            format!("folders nested deeper than {MAX_DEPTH}: a symbolic-link loop?"),
        ));
    }
    let entries =
        std::fs::read_dir(&dir).map_err(|e| DataError::new(&dir, format!("cannot list: {e}")))?;
    for entry in entries {
        let entry = entry.map_err(|e| DataError::new(&dir, format!("cannot list: {e}")))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = rel.join(&name);
        let kind = std::fs::metadata(root.join(&path))
            .map_err(|e| DataError::new(&root.join(&path), format!("cannot stat: {e}")))?;
        if kind.is_dir() {
            walk(root, &path, depth + 1, out)?;
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
    FolderSplit::open(root, options, split)?.decode_all()
}

/// One split of an image folder: its files, not yet decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderSplit {
    pub root: PathBuf,
    /// Relative paths and labels, in the split's order.
    pub files: Vec<(PathBuf, u8)>,
    pub options: FolderOptions,
}

impl FolderSplit {
    pub fn open(root: &Path, options: FolderOptions, split: Split) -> Result<Self, DataError> {
        Self::of(&FolderFiles::scan(root)?, options, split)
    }

    /// `split` of a folder already scanned.
    pub fn of(list: &FolderFiles, options: FolderOptions, split: Split) -> Result<Self, DataError> {
        check_split_sizes(list, options.held_out)?;
        Ok(Self {
            root: list.root.clone(),
            files: list.split(options.held_out, split),
            options,
        })
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Floats of one decoded image.
    pub fn image_len(&self) -> usize {
        self.options.channels * self.options.image_size.pow(2)
    }

    /// Every image decoded (on all cores), scaled and cropped, in the split's order.
    pub fn decode_all(&self) -> Result<ImageSet, DataError> {
        let paths: Vec<PathBuf> = self.files.iter().map(|(p, _)| self.root.join(p)).collect();
        Ok(ImageSet {
            channels: self.options.channels,
            height: self.options.image_size,
            width: self.options.image_size,
            pixels: decode_all(&paths, self.options)?,
            labels: self.files.iter().map(|(_, l)| *l).collect(),
        })
    }
}

/// Both splits must hold images (the test split only when some are held out).
fn check_split_sizes(list: &FolderFiles, held_out: f64) -> Result<(), DataError> {
    let n = list.files.len();
    let test = list.split(held_out, Split::Test).len();
    let problem = if test == n {
        "leaves no training image"
    } else if held_out > 0.0 && test == 0 {
        "holds out no image"
    } else {
        return Ok(());
    };
    Err(DataError {
        path: "data.held_out".into(),
        message: format!(
            "{held_out} of {n} files {problem} (in {})",
            list.root.display()
        ),
    })
}

/// Decodes `paths` in order, split over the machine's threads; the first unreadable file (in
/// list order) is the error.
pub fn decode_all(paths: &[PathBuf], options: FolderOptions) -> Result<Vec<f32>, DataError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    Ok(in_parallel(paths, threads, |path| decode(path, options))?.concat())
}

/// `f` of every item, in order, over `threads` threads; the first error in item order wins.
pub fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> Result<R, DataError> + Sync,
) -> Result<Vec<R>, DataError> {
    let chunk = items.len().div_ceil(threads.max(1)).max(1);
    let f = &f;
    let parts: Vec<Result<Vec<R>, DataError>> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(f).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(DataError::new(
                        Path::new("image decoder"),
                        "a decoding thread panicked",
                    ))
                })
            })
            .collect()
    });
    let mut out = Vec::with_capacity(items.len());
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

/// The error for a file the `image` crate cannot read as a picture.
pub fn not_an_image(path: &Path, e: image::ImageError) -> DataError {
    DataError::new(path, format!("not a readable PNG or JPEG image: {e}"))
}

/// One file as channel-first pixels in [−1, 1].
pub fn decode(path: &Path, options: FolderOptions) -> Result<Vec<f32>, DataError> {
    let unreadable = |e| not_an_image(path, e);
    let mut decoder = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| DataError::new(path, format!("cannot read: {e}")))?
        .into_decoder()
        .map_err(unreadable)?;
    // A photo's EXIF orientation, applied as viewers do, before the crop picks its centre.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = image::DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    let size = options.image_size as u32;
    Ok(match options.channels {
        1 => channel_first(&square(&image.to_luma8(), size)),
        _ => channel_first(&square(&image.to_rgb8(), size)),
    })
}

/// The centre square of the image, scaled (bicubic) to `size`×`size`: the same as scaling the
/// short side to `size` and cropping, without ever holding a scaled copy of a long, thin image.
fn square<P: Pixel<Subpixel = u8> + 'static>(
    image: &ImageBuffer<P, Vec<u8>>,
    size: u32,
) -> ImageBuffer<P, Vec<u8>> {
    let (w, h) = image.dimensions();
    let side = w.min(h);
    let centre = imageops::crop_imm(image, (w - side) / 2, (h - side) / 2, side, side).to_image();
    if side == size {
        centre
    } else {
        imageops::resize(&centre, size, size, FilterType::CatmullRom)
    }
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
