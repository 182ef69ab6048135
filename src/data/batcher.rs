//! Seeded mini-batches. Examples are visited epoch by epoch in a shuffled order, with optional
//! left–right flips; both come from the epoch's own block of the data stream, so the batch of
//! any step can be rebuilt from (seed, step) alone.

use burn::prelude::*;
use rand::RngExt;
use rand::seq::SliceRandom;

use super::ImageSet;
use crate::rng::{Stream, stream_at};

pub struct Batcher<'a> {
    set: &'a ImageSet,
    batch_size: usize,
    random_flip: bool,
    seed: u64,
    /// (epoch, order, flip) of the epoch last used.
    epoch_cache: Option<(u64, Vec<usize>, Vec<bool>)>,
}

impl<'a> Batcher<'a> {
    pub fn new(set: &'a ImageSet, batch_size: usize, random_flip: bool, seed: u64) -> Self {
        assert!(!set.is_empty(), "cannot batch an empty image set");
        Self {
            set,
            batch_size,
            random_flip,
            seed,
            epoch_cache: None,
        }
    }

    fn epoch(&mut self, epoch: u64) -> &(u64, Vec<usize>, Vec<bool>) {
        if self
            .epoch_cache
            .as_ref()
            .is_none_or(|(e, _, _)| *e != epoch)
        {
            let mut rng = stream_at(self.seed, Stream::Data, epoch);
            let mut order: Vec<usize> = (0..self.set.len()).collect();
            order.shuffle(&mut rng);
            let flips = (0..self.set.len())
                .map(|_| self.random_flip && rng.random_bool(0.5))
                .collect();
            self.epoch_cache = Some((epoch, order, flips));
        }
        self.epoch_cache.as_ref().unwrap()
    }

    /// (index, flipped) of every example of the batch used at 0-based `step`.
    fn examples(&mut self, step: u64) -> Vec<(usize, bool)> {
        let n = self.set.len() as u64;
        (0..self.batch_size as u64)
            .map(|j| {
                let global = step * self.batch_size as u64 + j;
                let (epoch, pos) = (global / n, (global % n) as usize);
                let (_, order, flips) = self.epoch(epoch);
                (order[pos], flips[pos])
            })
            .collect()
    }

    /// The pixels of the batch used at 0-based `step`, flattened [batch, c, h, w].
    pub fn batch_pixels(&mut self, step: u64) -> Vec<f32> {
        let (w, image_len) = (self.set.width, self.set.image_len());
        let mut out = Vec::with_capacity(self.batch_size * image_len);
        for (index, flip) in self.examples(step) {
            let image = self.set.image(index);
            if flip {
                out.extend(image.chunks_exact(w).flat_map(|row| row.iter().rev()));
            } else {
                out.extend_from_slice(image);
            }
        }
        out
    }

    /// The labels of the batch used at 0-based `step`, in the order of `batch_pixels`.
    pub fn batch_labels(&mut self, step: u64) -> Vec<u8> {
        let labels = &self.set.labels;
        self.examples(step)
            .into_iter()
            .map(|(i, _)| labels[i])
            .collect()
    }

    /// The batch of `step` as a tensor [batch, c, h, w] on `device`.
    pub fn batch(&mut self, step: u64, device: &Device) -> Tensor<4> {
        let shape = [
            self.batch_size,
            self.set.channels,
            self.set.height,
            self.set.width,
        ];
        Tensor::from_data(TensorData::new(self.batch_pixels(step), shape), device)
    }
}
