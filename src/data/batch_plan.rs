//! Which examples make the batch of each step. Examples are visited epoch by epoch in a
//! shuffled order, with optional left–right flips; both come from the epoch's own block of the
//! data stream, so the batch of any step follows from (seed, step) alone, whatever holds the
//! pixels (an in-memory set, or files decoded on the way).

use rand::RngExt;
use rand::seq::SliceRandom;

use crate::rng::{Stream, stream_at};

#[derive(Debug, Clone)]
pub struct BatchPlan {
    examples: usize,
    batch_size: usize,
    random_flip: bool,
    seed: u64,
    /// (epoch, order, flip) of the epoch last used.
    epoch_cache: Option<(u64, Vec<usize>, Vec<bool>)>,
}

impl BatchPlan {
    pub fn new(examples: usize, batch_size: usize, random_flip: bool, seed: u64) -> Self {
        assert!(examples > 0, "cannot batch an empty image set");
        Self {
            examples,
            batch_size,
            random_flip,
            seed,
            epoch_cache: None,
        }
    }

    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    fn epoch(&mut self, epoch: u64) -> &(u64, Vec<usize>, Vec<bool>) {
        if self
            .epoch_cache
            .as_ref()
            .is_none_or(|(e, _, _)| *e != epoch)
        {
            let mut rng = stream_at(self.seed, Stream::Data, epoch);
            let mut order: Vec<usize> = (0..self.examples).collect();
            order.shuffle(&mut rng);
            let flips = (0..self.examples)
                .map(|_| self.random_flip && rng.random_bool(0.5))
                .collect();
            self.epoch_cache = Some((epoch, order, flips));
        }
        self.epoch_cache.as_ref().unwrap()
    }

    /// (index, flipped) of every example of the batch used at 0-based `step`.
    pub fn examples(&mut self, step: u64) -> Vec<(usize, bool)> {
        let n = self.examples as u64;
        (0..self.batch_size as u64)
            .map(|j| {
                let global = step * self.batch_size as u64 + j;
                let (epoch, pos) = (global / n, (global % n) as usize);
                let (_, order, flips) = self.epoch(epoch);
                (order[pos], flips[pos])
            })
            .collect()
    }
}

/// Appends one channel-first image of row length `width`, mirrored left–right if `flip`.
pub fn push_image(out: &mut Vec<f32>, image: &[f32], width: usize, flip: bool) {
    if flip {
        out.extend(image.chunks_exact(width).flat_map(|row| row.iter().rev()));
    } else {
        out.extend_from_slice(image);
    }
}
