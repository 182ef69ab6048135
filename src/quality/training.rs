//! Training the feature network: seeded Adam on the training split's labels (cross-entropy),
//! then its accuracy on the test split, which every score it gives is reported with.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::feature_net::{CLASSES, FeatureNet};
use crate::data::{Batcher, DataRequest, DatasetName, ImageSet};
use crate::progress::Progress;
use crate::rng::{Stream, stream, stream_at};

/// How the feature network is trained; part of its cache key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    pub steps: u64,
    pub batch_size: usize,
    pub lr: f64,
    /// Fixed, not the run's seed: every run of a dataset must be scored by the same network.
    pub seed: u64,
    /// Each training image is shifted by up to this many pixels (background filled in), so
    /// the features generalise to held-out images instead of memorising the training split.
    pub max_shift: usize,
    /// Adam's L2 weight decay, for the same reason.
    pub weight_decay: f64,
}

impl TrainSettings {
    /// Enough for each dataset's classifier to reach a high test accuracy.
    pub fn for_data(request: &DataRequest) -> Self {
        let (steps, batch_size) = match request.dataset {
            DatasetName::Digits => (1500, 64),
            DatasetName::Mnist | DatasetName::FashionMnist => (3000, 128),
            DatasetName::Cifar10 | DatasetName::ImageFolder => (8000, 128),
        };
        let (_, side) = request.image_shape();
        Self {
            steps,
            batch_size,
            lr: 1e-3,
            seed: 0,
            max_shift: (side / 8).max(1),
            weight_decay: 1e-4,
        }
    }
}

/// Trains a feature network on `train` with `settings` on `device`.
pub fn train_feature_net(
    train: &ImageSet,
    settings: &TrainSettings,
    label: &str,
    device: &Device,
) -> FeatureNet {
    let ad = device.clone().autodiff();
    ad.seed(stream(settings.seed, Stream::FeatureNet).random());
    let mut net = FeatureNet::new(train.channels, &ad);
    let mut optimizer = AdamConfig::new()
        .with_weight_decay(Some(WeightDecayConfig::new(settings.weight_decay as f32)))
        .init();
    let mut batcher = Batcher::new(train, settings.batch_size, false, settings.seed);
    let mut progress = Progress::new(&format!("{label}: training"), 0, settings.steps);
    for step in 0..settings.steps {
        let mut pixels = batcher.pixels(step);
        let mut rng = stream_at(settings.seed, Stream::FeatureNet, step + 1);
        shift_randomly(&mut pixels, train, settings.max_shift, &mut rng);
        let shape = [
            settings.batch_size,
            train.channels,
            train.height,
            train.width,
        ];
        let x = Tensor::from_data(TensorData::new(pixels, shape), &ad);
        let labels = batcher.batch_labels(step);
        let one_hot = one_hot(&labels, &ad);
        let log_p = log_softmax(net.logits(net.features(x)), 1);
        let loss = (log_p * one_hot).sum().neg() / labels.len() as f64;
        if (step + 1) % 50 == 0 || step + 1 == settings.steps {
            let value = loss.clone().into_scalar::<f64>();
            progress.update(step + 1, &format!("cross-entropy {value:.4}"));
        }
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optimizer.step(settings.lr, net, grads);
    }
    progress.finish();
    net.valid()
}

/// Moves each image of a batch by a random (dx, dy) in [−max, max]², filling what comes in
/// with the background value −1 (black).
fn shift_randomly(pixels: &mut [f32], set: &ImageSet, max: usize, rng: &mut ChaCha8Rng) {
    let (c, h, w) = (set.channels, set.height, set.width);
    let max = max as i64;
    for image in pixels.chunks_mut(c * h * w) {
        let (dx, dy) = (rng.random_range(-max..=max), rng.random_range(-max..=max));
        let source = image.to_vec();
        for ch in 0..c {
            for y in 0..h as i64 {
                for x in 0..w as i64 {
                    let (sx, sy) = (x - dx, y - dy);
                    let inside = (0..w as i64).contains(&sx) && (0..h as i64).contains(&sy);
                    image[(ch * h + y as usize) * w + x as usize] = if inside {
                        source[(ch * h + sy as usize) * w + sx as usize]
                    } else {
                        -1.0
                    };
                }
            }
        }
    }
}

fn one_hot(labels: &[u8], device: &Device) -> Tensor<2> {
    let mut values = vec![0.0f32; labels.len() * CLASSES];
    for (i, &l) in labels.iter().enumerate() {
        values[i * CLASSES + l as usize] = 1.0;
    }
    Tensor::from_data(TensorData::new(values, [labels.len(), CLASSES]), device)
}

/// The fraction of `set` whose most probable class is its label.
pub fn accuracy(net: &FeatureNet, set: &ImageSet, batch: usize, device: &Device) -> f64 {
    let mut correct = 0usize;
    for start in (0..set.len()).step_by(batch) {
        let end = (start + batch).min(set.len());
        let pixels: Vec<f32> = (start..end).flat_map(|i| set.image(i).to_vec()).collect();
        let x = Tensor::from_data(
            TensorData::new(pixels, [end - start, set.channels, set.height, set.width]),
            device,
        );
        let predicted = net.logits(net.features(x)).argmax(1);
        let predicted = predicted
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .expect("ints");
        correct += predicted
            .iter()
            .zip(&set.labels[start..end])
            .filter(|(p, l)| **p == **l as i64)
            .count();
    }
    correct as f64 / set.len() as f64
}
