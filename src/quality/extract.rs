//! Running images through a scoring network in batches.

use burn::prelude::*;

use super::Features;
use super::scorer::ScoringNet;
use crate::progress::Progress;

/// (features, class probabilities row by row) of the images [c, h, w] in `pixels`, with
/// progress in images under `label` (Inception on a CPU takes minutes).
pub fn extract(
    net: &ScoringNet,
    pixels: &[f32],
    shape: [usize; 3],
    device: &Device,
    label: &str,
) -> (Features, Vec<f64>) {
    let image_len: usize = shape.iter().product();
    let count = pixels.len() / image_len;
    let batch = net.batch_size();
    let (mut features, mut probs) = (Vec::new(), Vec::new());
    let mut dim = 0;
    let mut progress = Progress::images(label, count as u64);
    for start in (0..count).step_by(batch) {
        let end = (start + batch).min(count);
        let x = Tensor::from_data(
            TensorData::new(
                pixels[start * image_len..end * image_len].to_vec(),
                [end - start, shape[0], shape[1], shape[2]],
            ),
            device,
        );
        let (f, p) = net.features_and_probs(x);
        dim = f.dims()[1];
        features.extend(to_f64(f));
        probs.extend(to_f64(p));
        progress.update(end as u64, "");
    }
    progress.finish();
    (Features::new(dim.max(1), features), probs)
}

fn to_f64(t: Tensor<2>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .expect("floats")
}

/// Pixels in [−1, 1] rounded to the 256 levels real images have, so samples and data are
/// scored on the same grid (the paper's samples are 8-bit images too).
pub fn quantise(pixels: &mut [f32]) {
    for v in pixels {
        *v = ((*v + 1.0) * 127.5).round().clamp(0.0, 255.0) / 127.5 - 1.0;
    }
}
