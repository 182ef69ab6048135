//! The 8×8 handwritten digits (UCI "Optical Recognition of Handwritten Digits", CC BY 4.0, as
//! shipped by scikit-learn), embedded so the default experiment needs no download.
//! Attribution: data/README.md.

use std::io::Read;

use rand::seq::SliceRandom;

use super::{ImageSet, Split, byte_to_unit};
use crate::rng::{Stream, stream};

static DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

/// Images in the training split; the other 297 are held out.
pub const TRAIN_COUNT: usize = 1500;

/// The seed of the split's permutation: a constant, not the spec's seed, so all runs share it.
const SPLIT_SEED: u64 = 0;

/// The file's rows in split order: the first TRAIN_COUNT train, the rest test.
///
/// A seeded shuffle rather than the file's order: the file holds each writer's digits in a
/// block, so its last 297 rows come from writers the first 1500 never saw, and a held-out
/// set of unseen writers is farther from the training set (FID 8.6 with the digits
/// classifier) than samples of a trained model are (4.3). Shuffled, both splits are draws
/// from one population, as CIFAR-10's are, and held-out real images are the yardstick they
/// should be.
pub fn split_order(rows: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rows).collect();
    order.shuffle(&mut stream(SPLIT_SEED, Stream::DataSplit));
    order
}

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
    let order = split_order(all.len());
    let rows = match split {
        Split::Train => &order[..TRAIN_COUNT],
        Split::Test => &order[TRAIN_COUNT..],
    };
    ImageSet {
        pixels: rows.iter().flat_map(|&i| all.image(i)).copied().collect(),
        labels: rows.iter().map(|&i| all.labels[i]).collect(),
        ..all
    }
}
