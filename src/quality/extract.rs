//! Running images through the feature network in batches.

use burn::prelude::*;

use super::Features;
use super::feature_net::{CLASSES, FEATURES, FeatureNet};

/// (features, class probabilities row by row) of `count` images [c, h, w] in `pixels`.
pub fn extract(
    net: &FeatureNet,
    pixels: &[f32],
    shape: [usize; 3],
    batch: usize,
    device: &Device,
) -> (Features, Vec<f64>) {
    let image_len: usize = shape.iter().product();
    let count = pixels.len() / image_len;
    let mut features = Vec::with_capacity(count * FEATURES);
    let mut probs = Vec::with_capacity(count * CLASSES);
    for start in (0..count).step_by(batch.max(1)) {
        let end = (start + batch).min(count);
        let x = Tensor::from_data(
            TensorData::new(
                pixels[start * image_len..end * image_len].to_vec(),
                [end - start, shape[0], shape[1], shape[2]],
            ),
            device,
        );
        let (f, p) = net.features_and_probs(x);
        features.extend(
            f.into_data()
                .convert::<f64>()
                .try_to_vec::<f64>()
                .expect("floats"),
        );
        probs.extend(
            p.into_data()
                .convert::<f64>()
                .try_to_vec::<f64>()
                .expect("floats"),
        );
    }
    (Features::new(FEATURES, features), probs)
}

/// Pixels in [−1, 1] rounded to the 256 levels real images have, so samples and data are
/// scored on the same grid (the paper's samples are 8-bit images too).
pub fn quantise(pixels: &mut [f32]) {
    for v in pixels {
        *v = ((*v + 1.0) * 127.5).round().clamp(0.0, 255.0) / 127.5 - 1.0;
    }
}
