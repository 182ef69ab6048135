//! Every random draw comes from a ChaCha8 stream derived from the spec's seed, one stream per
//! purpose, so adding draws to one purpose never shifts the numbers of another.

use burn::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// The purposes that draw random numbers; each gets its own ChaCha stream id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Model initialisation (seeds the backend before the weights are drawn).
    Init = 1,
    /// Order of training examples and horizontal flips.
    Data = 2,
    /// Timesteps t drawn per example.
    Timestep = 3,
    /// Noise ε added by q(x_t|x_0).
    Noise = 4,
    /// Seeds for the backend's dropout masks, one per step.
    Dropout = 5,
    /// Sampling: x_T and the z of every reverse step.
    Sampling = 6,
    /// Evaluation of the bound: the q(x_t|x_0) noise of every t.
    Evaluation = 7,
    /// Sample-quality evaluation: the samples scored (block 0) and KID's subsets (block 1).
    Quality = 8,
    /// The feature network of the quality scores: its initialisation and dropout-free training.
    FeatureNet = 9,
    /// Which embedded digits are held out: drawn once with a fixed seed, the same for every
    /// spec, so every run shares one test split.
    DataSplit = 10,
}

/// A stream of `seed` for `purpose`, at its beginning.
pub fn stream(seed: u64, purpose: Stream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(purpose as u64);
    rng
}

/// Standard normal draws in f32.
pub fn normal_vec(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n)
        .map(|_| rng.sample::<f32, _>(StandardNormal))
        .collect()
}

/// A tensor of standard normal draws from `rng`, made on the CPU and moved to `device`.
pub fn normal_tensor(rng: &mut ChaCha8Rng, shape: [usize; 4], device: &Device) -> Tensor<4> {
    let n = shape.iter().product();
    Tensor::from_data(TensorData::new(normal_vec(rng, n), shape), device)
}

/// Words reserved for each step (or epoch) of a stream: far more than any step draws.
const WORDS_PER_INDEX: u128 = 1 << 36;

/// The stream `purpose` of `seed`, positioned at the block reserved for `index` (a step or an
/// epoch). What step s draws depends only on (seed, purpose, s), so a resumed run needs no
/// saved generator state to draw exactly what the uninterrupted run drew.
pub fn stream_at(seed: u64, purpose: Stream, index: u64) -> ChaCha8Rng {
    let mut rng = stream(seed, purpose);
    rng.set_word_pos(index as u128 * WORDS_PER_INDEX);
    rng
}
