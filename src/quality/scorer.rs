//! A network that scores images (the dataset's own classifier, or Inception-v3 from the user's
//! pytorch-fid weights) with the reference set it compares them to, and how a reference set is
//! kept on disk: raw little-endian arrays (a 2048-wide covariance is 4 M numbers) beside the
//! network, all listed in the folder's checksums.json.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::tensor::activation::softmax;
use nalgebra::{DMatrix, DVector};

use super::feature_net::FeatureNet;
use super::inception::FidInception;
use super::{FeatureStats, Features, FrechetReference, QualityError};
use crate::record::RecordError;
use crate::record::atomic::write_atomic;
use crate::record::publish::{IfPresent, publish_dir};

/// Reference images kept for KID (FID uses the statistics of all of them).
const KID_REFERENCE: usize = 10_000;
/// The files `write_reference` makes.
pub const REFERENCE_FILES: [&str; 3] = [
    "reference_mean.f64",
    "reference_cov.f64",
    "reference_features.f32",
];

pub enum ScoringNet {
    Classifier(FeatureNet),
    Inception(Box<FidInception>),
}

impl ScoringNet {
    /// (features, class probabilities) of images [n, c, h, w] in [−1, 1].
    pub fn features_and_probs(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<2>) {
        match self {
            ScoringNet::Classifier(net) => net.features_and_probs(x),
            ScoringNet::Inception(net) => {
                let features = net.features(x);
                let probs = softmax(net.logits(features.clone()), 1);
                (features, probs)
            }
        }
    }

    /// Images per forward pass: Inception works at 299×299.
    pub fn batch_size(&self) -> usize {
        match self {
            ScoringNet::Classifier(_) => 256,
            ScoringNet::Inception(_) => 16,
        }
    }
}

/// A scoring network with its reference set.
pub struct Scorer {
    /// The name every score carries: "digits-classifier", "inception-v3".
    pub name: String,
    /// The network's accuracy on the held-out split, where the harness trained it.
    pub accuracy: Option<f64>,
    /// The cache folder of the network and its reference statistics.
    pub dir: PathBuf,
    pub net: ScoringNet,
    /// Mean and covariance of the reference (training split) features, with Σ^½.
    pub reference: FrechetReference,
    /// Features of the first reference images, for KID.
    pub reference_features: Features,
}

fn to_bytes<T: Copy>(values: impl Iterator<Item = T>, le: fn(T) -> Vec<u8>) -> Vec<u8> {
    values.flat_map(le).collect()
}

/// Writes the statistics of `features` and the first KID_REFERENCE rows of them into `dir`.
pub fn write_reference(dir: &Path, features: &Features) -> Result<(), QualityError> {
    let stats = FeatureStats::of(features)?;
    let err = |e: std::io::Error| RecordError::unwritable(dir, format!("cannot write: {e}"));
    let f64_bytes = |v: f64| v.to_le_bytes().to_vec();
    write_atomic(
        &dir.join(REFERENCE_FILES[0]),
        &to_bytes(stats.mean.iter().copied(), f64_bytes),
    )
    .map_err(err)?;
    write_atomic(
        &dir.join(REFERENCE_FILES[1]),
        &to_bytes(stats.cov.iter().copied(), f64_bytes),
    )
    .map_err(err)?;
    let kept = features.rows().min(KID_REFERENCE) * features.dim;
    let rows = features.values[..kept].iter().map(|&v| v as f32);
    write_atomic(
        &dir.join(REFERENCE_FILES[2]),
        &to_bytes(rows, |v: f32| v.to_le_bytes().to_vec()),
    )
    .map_err(err)?;
    Ok(())
}

fn read_le<const N: usize>(path: &Path) -> Result<Vec<[u8; N]>, RecordError> {
    let bytes = std::fs::read(path)
        .map_err(|e| RecordError::unreadable(path, format!("cannot read: {e}")))?;
    if bytes.len() % N != 0 {
        return Err(RecordError::unreadable(path, "cut short"));
    }
    Ok(bytes
        .chunks_exact(N)
        .map(|c| c.try_into().expect("chunk of N"))
        .collect())
}

/// Reads what `write_reference` wrote for features `dim` wide: (statistics, KID rows).
/// Σ^½ is computed here, once per scorer, not once per FID.
pub fn read_reference(
    dir: &Path,
    dim: usize,
    count: usize,
) -> Result<(FrechetReference, Features), RecordError> {
    let mean: Vec<f64> = read_le::<8>(&dir.join(REFERENCE_FILES[0]))?
        .into_iter()
        .map(f64::from_le_bytes)
        .collect();
    let cov: Vec<f64> = read_le::<8>(&dir.join(REFERENCE_FILES[1]))?
        .into_iter()
        .map(f64::from_le_bytes)
        .collect();
    let rows: Vec<f64> = read_le::<4>(&dir.join(REFERENCE_FILES[2]))?
        .into_iter()
        .map(|b| f32::from_le_bytes(b) as f64)
        .collect();
    if mean.len() != dim || cov.len() != dim * dim || rows.len() % dim != 0 {
        return Err(RecordError::unreadable(
            dir,
            format!("reference statistics are not {dim} wide"),
        ));
    }
    let stats = FeatureStats {
        mean: DVector::from_vec(mean),
        cov: DMatrix::from_vec(dim, dim, cov),
        count,
    };
    Ok((FrechetReference::new(stats), Features::new(dim, rows)))
}

/// Makes the cache folder `dir` in one step (see record::publish); a folder another process
/// made first is kept, since it holds the same thing.
pub fn publish_cache(
    dir: &Path,
    files: &[&str],
    fill: impl FnOnce(&Path) -> Result<(), QualityError>,
) -> Result<(), QualityError> {
    publish_dir(dir, files, IfPresent::Keep, "cannot write", fill)
}
