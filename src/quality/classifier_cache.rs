//! The trained feature network of a dataset and the statistics of its training split, made
//! once and kept in `<cache>/<dataset>-classifier-<key>/`, where the key is a SHA-256 of the
//! data's pixels and labels, the training settings and the network's version: other data or
//! settings get another folder, and a damaged file fails its checksum instead of being used.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::QualityError;
use super::extract::extract;
use super::feature_net::{FEATURES, FeatureNet};
use super::scorer::{
    REFERENCE_FILES, Scorer, ScoringNet, publish_cache, read_reference, write_reference,
};
use super::training::{TrainSettings, accuracy, train_feature_net};
use crate::data::{self, DataRequest, DatasetName, ImageSet, Split};
use crate::record::RecordError;
use crate::record::atomic::write_atomic;
use crate::record::checksum::{hex, verify_manifest};

/// Bump when the network, its training or the cache's files change: old caches are then not
/// reused. (2: reference statistics as raw f64 arrays.)
const VERSION: u32 = 2;

/// What a cached feature network is, as recorded beside it and shown with its scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureNetInfo {
    /// The name the scores carry, e.g. "digits-classifier".
    pub name: String,
    pub dataset: DatasetName,
    pub version: u32,
    pub settings: TrainSettings,
    pub data_sha256: String,
    pub test_accuracy: f64,
    pub test_images: usize,
    pub train_images: usize,
    pub train_seconds: f64,
}

/// Where feature networks are cached: `$DDPM_EXP_CACHE`, else `results/feature-nets`.
pub fn cache_root() -> PathBuf {
    std::env::var_os("DDPM_EXP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("results/feature-nets"))
}

/// SHA-256 of the pixels and labels of both splits.
pub fn data_digest(train: &ImageSet, test: &ImageSet) -> String {
    hex(&Sha256::digest(format!(
        "{}{}",
        train.sha256(),
        test.sha256()
    )))
}

/// The scorer for `dataset`: loaded from the cache, or trained and cached first.
pub fn load_or_train(
    request: &DataRequest,
    root: &Path,
    device: &Device,
) -> Result<Scorer, QualityError> {
    let dataset = request.dataset;
    let train = data::load(request, Split::Train)?;
    let test = data::load(request, Split::Test)?;
    let settings = TrainSettings::for_data(request);
    let data_sha256 = data_digest(&train, &test);
    let key = {
        let mut h = Sha256::new();
        h.update(format!(
            "{VERSION}{}",
            serde_json::to_string(&settings).unwrap()
        ));
        h.update(&data_sha256);
        hex(&h.finalize())
    };
    let name = format!("{}-classifier", dataset.name());
    let dir = root.join(format!("{name}-{}", &key[..12]));
    if !dir.exists() {
        build(
            &dir,
            &name,
            dataset,
            &settings,
            data_sha256,
            &train,
            &test,
            device,
        )?;
    }
    load(&dir, train.channels, device)
}

#[allow(clippy::too_many_arguments)]
fn build(
    dir: &Path,
    name: &str,
    dataset: DatasetName,
    settings: &TrainSettings,
    data_sha256: String,
    train: &ImageSet,
    test: &ImageSet,
    device: &Device,
) -> Result<(), QualityError> {
    eprintln!(
        "{name}: training the feature network once ({} steps on {} images); cached in {}",
        settings.steps,
        train.len(),
        dir.display()
    );
    let started = Instant::now();
    let net = train_feature_net(train, settings, name, device);
    let train_seconds = started.elapsed().as_secs_f64();
    let info = FeatureNetInfo {
        name: name.to_string(),
        dataset,
        version: VERSION,
        settings: settings.clone(),
        data_sha256,
        test_accuracy: accuracy(&net, test, 256, device),
        test_images: test.len(),
        train_images: train.len(),
        train_seconds,
    };
    let files: Vec<&str> = ["net.bpk", "info.json"]
        .into_iter()
        .chain(REFERENCE_FILES)
        .collect();
    publish_cache(dir, &files, |partial| {
        let err =
            |e: &dyn std::fmt::Display| RecordError::unwritable(dir, format!("cannot write: {e}"));
        net.clone()
            .save_file(partial.join("net.bpk"))
            .map_err(|e| err(&e))?;
        write_atomic(&partial.join("info.json"), pretty(&info).as_bytes()).map_err(|e| err(&e))?;
        let shape = [train.channels, train.height, train.width];
        let label = format!("{}: reference features", info.name);
        let net = ScoringNet::Classifier(net);
        let (features, _) = extract(&net, &train.pixels, shape, device, &label);
        write_reference(partial, &features)
    })
}

fn pretty<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("serialises")
}

fn load(dir: &Path, channels: usize, device: &Device) -> Result<Scorer, QualityError> {
    verify_manifest(dir)?;
    let info = read_info(dir)?;
    let (reference, reference_features) = read_reference(dir, FEATURES, info.train_images)?;
    let net = FeatureNet::new(channels, device)
        .try_load_file(dir.join("net.bpk"))
        .map_err(|e| RecordError::unreadable(&dir.join("net.bpk"), format!("cannot load: {e}")))?;
    Ok(Scorer {
        name: info.name.clone(),
        accuracy: Some(info.test_accuracy),
        dir: dir.to_path_buf(),
        net: ScoringNet::Classifier(net),
        reference,
        reference_features,
    })
}

/// The classifier's own record (settings, data hash, accuracy, training time) in `dir`.
pub fn read_info(dir: &Path) -> Result<FeatureNetInfo, RecordError> {
    let path = dir.join("info.json");
    let text = std::fs::read(&path)
        .map_err(|e| RecordError::unreadable(&path, format!("cannot read: {e}")))?;
    serde_json::from_slice(&text).map_err(|e| RecordError::unreadable(&path, e))
}
