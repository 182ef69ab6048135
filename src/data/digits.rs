//! The 8×8 handwritten digits (UCI "Optical Recognition of Handwritten Digits", CC BY 4.0, as
//! shipped by scikit-learn), embedded so the default experiment needs no download.
//! Attribution: data/README.md.

use std::io::Read;

use super::{ImageSet, Split, byte_to_unit};

static DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

/// Images 0..TRAIN_COUNT are the training split, the remaining 297 the held-out split.
pub const TRAIN_COUNT: usize = 1500;

/// Parses the CSV: 64 intensities 0..=16 (row-major 8×8), then the label.
pub fn parse_csv(text: &str) -> Result<ImageSet, String> {
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 65 {
            return Err(format!(
                "line {}: expected 65 comma-separated numbers, found {}",
                number + 1,
                fields.len()
            ));
        }
        for field in &fields[..64] {
            let v: f32 = field
                .trim()
                .parse()
                .map_err(|_| format!("line {}: bad pixel {field:?}", number + 1))?;
            if !(0.0..=16.0).contains(&v) {
                return Err(format!("line {}: pixel {v} outside 0..=16", number + 1));
            }
            // 0..=16 onto the 8-bit grid first, so the discretized decoder's 256 bins and the
            // bits/dim of the bound mean what they mean for 8-bit images.
            pixels.push(byte_to_unit((v * 255.0 / 16.0).round() as u8));
        }
        let label: f32 = fields[64]
            .trim()
            .parse()
            .map_err(|_| format!("line {}: bad label", number + 1))?;
        labels.push(label as u8);
    }
    Ok(ImageSet {
        channels: 1,
        height: 8,
        width: 8,
        pixels,
        labels,
    })
}

/// The embedded set's `split`.
pub fn embedded(split: Split) -> ImageSet {
    let mut text = String::new();
    flate2::read::GzDecoder::new(DIGITS_CSV_GZ)
        .read_to_string(&mut text)
        .expect("the embedded digits archive is part of the binary");
    let all = parse_csv(&text).expect("the embedded digits file is well-formed");
    let range = match split {
        Split::Train => 0..TRAIN_COUNT,
        Split::Test => TRAIN_COUNT..all.len(),
    };
    let n = all.image_len();
    ImageSet {
        pixels: all.pixels[range.start * n..range.end * n].to_vec(),
        labels: all.labels[range].to_vec(),
        ..all
    }
}
