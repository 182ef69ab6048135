//! Inception-v3 scoring from the user's pytorch-fid weights: the network is loaded from that
//! file each time; the training split's pool3 statistics (the slow part: every image at
//! 299×299) are computed once and kept in `<cache>/inception-v3-<dataset>-<key>/`, keyed by
//! the SHA-256 of the weights file and of the data.

use std::path::Path;
use std::time::Instant;

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::QualityError;
use super::classifier_cache::data_digest;
use super::extract::extract;
use super::inception::{INCEPTION_FEATURES, load_pytorch_fid};
use super::scorer::{
    REFERENCE_FILES, Scorer, ScoringNet, publish_cache, read_reference, write_reference,
};
use crate::data::{self, DataRequest, DatasetName, Split};
use crate::record::RecordError;
use crate::record::atomic::write_atomic;
use crate::record::checksum::{hex, sha256_file, verify_manifest};

pub const NAME: &str = "inception-v3";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ReferenceInfo {
    weights_sha256: String,
    dataset: DatasetName,
    data_sha256: String,
    images: usize,
    seconds: f64,
}

/// The Inception scorer for `dataset`, with the reference statistics cached under `root`.
pub fn load_inception(
    weights: &Path,
    request: &DataRequest,
    root: &Path,
    device: &Device,
) -> Result<Scorer, QualityError> {
    let dataset = request.dataset;
    let net = load_pytorch_fid(weights, device)?;
    let weights_sha256 = sha256_file(weights).map_err(|e| QualityError::Weights {
        path: weights.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    let train = data::load(request, Split::Train)?;
    let test = data::load(request, Split::Test)?;
    let data_sha256 = data_digest(&train, &test);
    let key = hex(&Sha256::digest(format!("{weights_sha256}{data_sha256}")));
    let dir = root.join(format!("{NAME}-{}-{}", dataset.name(), &key[..12]));
    let net = ScoringNet::Inception(Box::new(net));
    if !dir.exists() {
        eprintln!(
            "{NAME}: pool3 statistics of the {} training images, once; cached in {}",
            train.len(),
            dir.display()
        );
        let started = Instant::now();
        let shape = [train.channels, train.height, train.width];
        let label = format!("{NAME}: reference features");
        let (features, _) = extract(&net, &train.pixels, shape, device, &label);
        let info = ReferenceInfo {
            weights_sha256,
            dataset,
            data_sha256,
            images: train.len(),
            seconds: started.elapsed().as_secs_f64(),
        };
        let files: Vec<&str> = std::iter::once("info.json")
            .chain(REFERENCE_FILES)
            .collect();
        publish_cache(&dir, &files, |partial| {
            let json = serde_json::to_string_pretty(&info).expect("serialises");
            write_atomic(&partial.join("info.json"), json.as_bytes())
                .map_err(|e| RecordError::unwritable(&dir, format!("cannot write: {e}")))?;
            write_reference(partial, &features)
        })?;
    }
    verify_manifest(&dir)?;
    let (reference, reference_features) = read_reference(&dir, INCEPTION_FEATURES, train.len())?;
    Ok(Scorer {
        name: NAME.to_string(),
        accuracy: None,
        dir,
        net,
        reference,
        reference_features,
    })
}
