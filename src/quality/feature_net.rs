//! The feature network: a small CNN classifier trained by the harness on a dataset's training
//! split. Its penultimate layer (after ReLU) gives the features of FID and KID, its softmax the
//! class probabilities of IS — the roles Inception-v3's pool3 and logits play in the usual
//! scores, which is why the scores it gives are named after it, e.g. "FID (digits-classifier)".

use burn::nn::Linear;
use burn::nn::conv::Conv2d;
use burn::prelude::*;
use burn::tensor::activation::{relu, softmax};

use crate::model::layers::{conv, dense};

/// The width of the feature vector (FID's covariance is FEATURES × FEATURES).
pub const FEATURES: usize = 128;
pub const CLASSES: usize = 10;

/// conv 3×3 (c→32) → conv 3×3 stride 2 (→64) → conv 3×3 stride 2 (→128) → global average
/// pool → dense 128 (the features) → dense 10 (the logits). Any image side works.
#[derive(Module, Debug)]
pub struct FeatureNet {
    conv1: Conv2d,
    conv2: Conv2d,
    conv3: Conv2d,
    hidden: Linear,
    out: Linear,
}

impl FeatureNet {
    pub fn new(channels: usize, device: &Device) -> Self {
        Self {
            conv1: conv(channels, 32, 3, 1, 1.0, device),
            conv2: conv(32, 64, 3, 2, 1.0, device),
            conv3: conv(64, 128, 3, 2, 1.0, device),
            hidden: dense(128, FEATURES, 1.0, device),
            out: dense(FEATURES, CLASSES, 1.0, device),
        }
    }

    /// Penultimate-layer features [n, FEATURES] of images [n, c, h, w] in [−1, 1].
    pub fn features(&self, x: Tensor<4>) -> Tensor<2> {
        let x = relu(self.conv1.forward(x));
        let x = relu(self.conv2.forward(x));
        let x = relu(self.conv3.forward(x));
        let [n, c, _, _] = x.dims();
        let pooled = x.mean_dim(3).mean_dim(2).reshape([n, c]);
        relu(self.hidden.forward(pooled))
    }

    /// Class logits [n, CLASSES] from `features`.
    pub fn logits(&self, features: Tensor<2>) -> Tensor<2> {
        self.out.forward(features)
    }

    /// (features, class probabilities) of images.
    pub fn features_and_probs(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<2>) {
        let features = self.features(x);
        let probs = softmax(self.logits(features.clone()), 1);
        (features, probs)
    }
}
