//! Each training step's ε drawn one step ahead on a worker thread, so that the host's ChaCha
//! draws (393k normals a step at the paper's CIFAR10 batch) overlap the step before instead of
//! holding the device up at the start of each step. What step s gets depends only on
//! (seed, s) (rng::stream_at), so the values are exactly those drawn in line.

use std::sync::Mutex;
use std::thread::JoinHandle;

use crate::rng::{Stream, normal_vec, stream_at};

/// Fewer normals than this are drawn in line: below ~64k a draw takes less time than starting
/// a thread for it (the digits' 4,096 a step: ~0.1 ms more drawn ahead).
const AHEAD_FROM: usize = 1 << 16;

pub struct NoiseAhead {
    seed: u64,
    pending: Mutex<Option<Pending>>,
}

/// The draw under way: its step, its length, and the thread drawing it.
struct Pending {
    step: u64,
    len: usize,
    draw: JoinHandle<Vec<f32>>,
}

impl NoiseAhead {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            pending: Mutex::new(None),
        }
    }

    /// Step `step`'s ε, `len` standard normals; then starts drawing step + 1's (for
    /// `AHEAD_FROM` normals or more). A draw made
    /// for another step (a resume, a bench restarted at another step) is dropped unused.
    pub fn take(&self, step: u64, len: usize) -> Vec<f32> {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let ready = match pending.take() {
            Some(p) if p.step == step && p.len == len => p.draw.join().ok(),
            _ => None,
        };
        let values = ready.unwrap_or_else(|| draw(self.seed, step, len));
        if len < AHEAD_FROM {
            return values;
        }
        let (seed, next) = (self.seed, step + 1);
        *pending = Some(Pending {
            step: next,
            len,
            draw: std::thread::spawn(move || draw(seed, next, len)),
        });
        values
    }
}

fn draw(seed: u64, step: u64, len: usize) -> Vec<f32> {
    normal_vec(&mut stream_at(seed, Stream::Noise, step), len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_ahead_or_in_line_each_step_gets_its_own_stream() {
        let ahead = NoiseAhead::new(9);
        // In order (each one drawn ahead), then a jump back (drawn in line), then on.
        let big = AHEAD_FROM + 3;
        for step in [0, 1, 2, 3, 1, 2, 7] {
            assert_eq!(ahead.take(step, big), draw(9, step, big), "step {step}");
        }
        assert_ne!(draw(9, 1, big), draw(9, 2, big));
        // Another length at the same step is drawn afresh, and a small one in line.
        assert_eq!(ahead.take(8, 20), draw(9, 8, 20));
        assert_eq!(ahead.take(9, 20), draw(9, 9, 20));
    }
}
