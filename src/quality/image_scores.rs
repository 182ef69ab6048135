//! FID, IS and KID of a set of images against the scorer's reference set (its training split).

use burn::prelude::*;

use super::extract::extract;
use super::scorer::Scorer;
use super::{FeatureStats, QualityError, inception_score, kernel_inception_distance};
use crate::rng::{Stream, stream_at};

/// IS is reported over 10 splits, as in Salimans et al. and the paper's Table 1.
pub const IS_SPLITS: usize = 10;
/// KID: 100 subsets of up to 1000 images each (Bińkowski et al.'s defaults).
pub const KID_SUBSETS: usize = 100;
pub const KID_SUBSET_SIZE: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct QualityScores {
    pub images: usize,
    pub fid: f64,
    pub is_mean: f64,
    pub is_std: f64,
    pub kid_mean: f64,
    pub kid_std: f64,
}

/// Scores images [n, c, h, w] in [−1, 1]; KID's subsets come from `seed`'s quality stream.
pub fn score_images(
    scorer: &Scorer,
    pixels: &[f32],
    shape: [usize; 3],
    seed: u64,
    device: &Device,
) -> Result<QualityScores, QualityError> {
    let label = format!("{}: features", scorer.name);
    let (features, probs) = extract(&scorer.net, pixels, shape, device, &label);
    let stats = FeatureStats::of(&features)?;
    let classes = probs.len() / features.rows().max(1);
    let (is_mean, is_std) = inception_score(&probs, classes, IS_SPLITS)?;
    let mut rng = stream_at(seed, Stream::Quality, 1);
    let (kid_mean, kid_std) = kernel_inception_distance(
        &features,
        &scorer.reference_features,
        KID_SUBSETS,
        KID_SUBSET_SIZE,
        &mut rng,
    )?;
    Ok(QualityScores {
        images: features.rows(),
        fid: scorer.reference.distance(&stats),
        is_mean,
        is_std,
        kid_mean,
        kid_std,
    })
}
