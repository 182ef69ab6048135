//! Samples written for other tools: a numpy `.npz` holding `arr_0`, uint8, N×H×W×C (the layout
//! guided-diffusion's evaluator and improved-diffusion's image_sample.py use), or a folder of
//! PNGs `000000.png`, … (what pytorch-fid, clean-fid and torch-fidelity read).

use std::io::Write;
use std::path::Path;

use zip::write::SimpleFileOptions;

use super::atomic::{replace_with, sync_dir};
use super::error::RecordError;

/// Images [n, c, h, w] in [−1, 1] as 8-bit N×H×W×C, each value rounded to its nearest level.
pub fn to_nhwc_bytes(pixels: &[f32], [n, c, h, w]: [usize; 4]) -> Vec<u8> {
    let to_byte = |v: f32| ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8;
    let mut out = Vec::with_capacity(n * h * w * c);
    for image in pixels.chunks_exact(c * h * w) {
        for pixel in 0..h * w {
            out.extend((0..c).map(|channel| to_byte(image[channel * h * w + pixel])));
        }
    }
    out
}

/// The `.npy` (format 1.0) bytes of a uint8 array of `shape`: magic, header, data.
fn npy(bytes: &[u8], shape: [usize; 4]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let dict = format!(
        "{{'descr': '|u1', 'fortran_order': False, 'shape': ({}), }}",
        dims.join(", ")
    );
    // The header (magic 6 + version 2 + length 2 + dict + '\n') is padded to a multiple of 64.
    let padded = (10 + dict.len() + 1).div_ceil(64) * 64 - 10;
    let mut header = format!("{dict:<width$}", width = padded - 1);
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(bytes);
    out
}

/// Writes `path` as an `.npz` with the one array `arr_0` (stored, as numpy's `savez` does).
pub fn write_npz(path: &Path, bytes: &[u8], shape: [usize; 4]) -> Result<(), RecordError> {
    let data = npy(bytes, shape);
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        // A fixed time (the format's epoch, 1980-01-01), not the clock's: same samples, same bytes.
        .last_modified_time(zip::DateTime::default())
        .large_file(data.len() > u32::MAX as usize);
    replace_with(path, |file| {
        let mut zip = zip::ZipWriter::new(file);
        zip.start_file("arr_0.npy", options)?;
        zip.write_all(&data)?;
        zip.finish()?;
        Ok(())
    })
    .map_err(|e| RecordError::unwritable(path, format!("cannot write npz: {e}")))
}

/// Writes each image as `dir/NNNNNN.png` (grey for one channel, RGB for three) into a folder
/// the caller renames into place when it is complete.
pub fn write_png_folder(dir: &Path, bytes: &[u8], shape: [usize; 4]) -> Result<(), RecordError> {
    let [_, h, w, c] = shape;
    let unwritable = |path: &Path, e: &dyn std::fmt::Display| {
        RecordError::unwritable(path, format!("cannot write: {e}"))
    };
    std::fs::create_dir_all(dir).map_err(|e| unwritable(dir, &e))?;
    let colour = if c == 1 {
        image::ExtendedColorType::L8
    } else {
        image::ExtendedColorType::Rgb8
    };
    for (i, image) in bytes.chunks_exact(h * w * c).enumerate() {
        let path = dir.join(format!("{i:06}.png"));
        let mut png = Vec::new();
        image::ImageEncoder::write_image(
            image::codecs::png::PngEncoder::new(&mut png),
            image,
            w as u32,
            h as u32,
            colour,
        )
        .map_err(|e| unwritable(&path, &e))?;
        // The folder is a partial one, renamed into place whole: each file needs its data on
        // disk, not a rename of its own.
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&path)?;
            file.write_all(&png)?;
            file.sync_all()
        };
        write().map_err(|e| unwritable(&path, &e))?;
    }
    sync_dir(dir).map_err(|e| unwritable(dir, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_npy_header_is_padded_to_64_and_names_the_shape() {
        let data = npy(&[7; 24], [2, 2, 2, 3]);
        let header_len = u16::from_le_bytes([data[8], data[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        let header = std::str::from_utf8(&data[10..10 + header_len]).unwrap();
        assert!(header.contains("'shape': (2, 2, 2, 3)"), "{header}");
        assert!(header.ends_with('\n'));
        assert_eq!(&data[10 + header_len..], &[7; 24]);
    }

    #[test]
    fn channels_move_last() {
        // One 1×2 image of 3 channels: channel-major in, pixel-major out.
        let pixels = [-1.0, 1.0, 0.0, 0.0, 1.0, -1.0];
        assert_eq!(
            to_nhwc_bytes(&pixels, [1, 3, 1, 2]),
            [0, 128, 255, 255, 128, 0]
        );
    }
}
