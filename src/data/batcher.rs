//! Seeded mini-batches of an in-memory image set, and what every source of training batches
//! offers the trainer (the streaming loader of data/streaming.rs is the other).

use burn::prelude::*;

use super::batch_plan::{BatchPlan, push_image};
use super::{DataError, ImageSet};

/// Where the trainer takes the batch of each step from. The batch of a step depends only on
/// the seed and the step (data/batch_plan.rs), so every source gives the same batches.
pub trait BatchSource {
    /// [batch, channels, height, width] of every batch.
    fn batch_shape(&self) -> [usize; 4];

    /// The pixels of the batch used at 0-based `step`, flattened [batch, c, h, w].
    fn batch_pixels(&mut self, step: u64) -> Result<Vec<f32>, DataError>;

    /// The batch of `step` as a tensor on `device`.
    fn batch(&mut self, step: u64, device: &Device) -> Result<Tensor<4>, DataError> {
        let data = TensorData::new(self.batch_pixels(step)?, self.batch_shape());
        Ok(Tensor::from_data(data, device))
    }
}

pub struct Batcher<'a> {
    set: &'a ImageSet,
    plan: BatchPlan,
}

impl<'a> Batcher<'a> {
    pub fn new(set: &'a ImageSet, batch_size: usize, random_flip: bool, seed: u64) -> Self {
        let plan = BatchPlan::new(set.len(), batch_size, random_flip, seed);
        Self { set, plan }
    }

    /// The pixels of the batch used at 0-based `step`, flattened [batch, c, h, w].
    pub fn pixels(&mut self, step: u64) -> Vec<f32> {
        let (w, image_len) = (self.set.width, self.set.image_len());
        let mut out = Vec::with_capacity(self.plan.batch_size() * image_len);
        for (index, flip) in self.plan.examples(step) {
            push_image(&mut out, self.set.image(index), w, flip);
        }
        out
    }

    /// The batch of `step` as a tensor [batch, c, h, w] on `device`.
    pub fn tensor(&mut self, step: u64, device: &Device) -> Tensor<4> {
        let data = TensorData::new(self.pixels(step), self.batch_shape());
        Tensor::from_data(data, device)
    }

    /// The labels of the batch used at 0-based `step`, in the order of `batch_pixels`.
    pub fn batch_labels(&mut self, step: u64) -> Vec<u8> {
        let labels = &self.set.labels;
        self.plan
            .examples(step)
            .into_iter()
            .map(|(i, _)| labels[i])
            .collect()
    }
}

impl BatchSource for Batcher<'_> {
    fn batch_shape(&self) -> [usize; 4] {
        let s = self.set;
        [self.plan.batch_size(), s.channels, s.height, s.width]
    }

    fn batch_pixels(&mut self, step: u64) -> Result<Vec<f32>, DataError> {
        Ok(self.pixels(step))
    }
}
