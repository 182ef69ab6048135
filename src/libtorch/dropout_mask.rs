//! Dropout's keep masks on LibTorch's CPU device, drawn from a ChaCha8 stream of the step's
//! dropout seed. LibTorch's own CPU Bernoulli kernel is serial: ~11 ns an element here, 92 ms of
//! a cifar10 batch-8 training step (8.7M values); ChaCha8 over LibTorch's threads is ~1 ns. On
//! CUDA, LibTorch's generator stays (a host mask would cross the bus every step).
//!
//! The stream is the calling thread's: a training step seeds it and its forward draws from it in
//! call order, so masks follow from (seed, step) alone, whatever other threads draw.

use std::cell::RefCell;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

thread_local! {
    /// This thread's mask stream, set by [`seed`] at each training step.
    static STREAM: RefCell<Option<ChaCha8Rng>> = const { RefCell::new(None) };
}

/// Tensors smaller than this are drawn on the calling thread alone.
const PARALLEL_FROM: usize = 1 << 16;

/// Seeds this thread's mask stream (and so every mask drawn on it until the next seed).
pub fn seed(seed: u64) {
    STREAM.with(|stream| *stream.borrow_mut() = Some(ChaCha8Rng::seed_from_u64(seed)));
}

/// A keep mask (Bool, `x`'s shape) for dropping each value with probability `prob`; `None`
/// where `x` is not on the CPU or this thread's stream was never seeded.
pub(super) fn keep_mask(x: &tch::Tensor, prob: f64) -> Option<tch::Tensor> {
    if x.device() != tch::Device::Cpu {
        return None;
    }
    let keep = STREAM.with(|stream| {
        let mut stream = stream.borrow_mut();
        let threads = tch::get_num_threads().max(1) as usize;
        Some(draw_keep(stream.as_mut()?, x.numel(), prob, threads))
    })?;
    Some(tch::Tensor::from_data_size(
        &keep,
        &x.size(),
        tch::Kind::Bool,
    ))
}

/// `n` keep flags (1 = kept): value i is kept iff the stream's next word i is ≥ prob·2³², so
/// it is dropped with probability `prob` (to 2⁻³²). Chunks are drawn in parallel, each from its
/// own word position (on up to `threads` threads), so the flags do not depend on their number.
pub fn draw_keep(rng: &mut ChaCha8Rng, n: usize, prob: f64, threads: usize) -> Vec<u8> {
    let threshold = (prob * 4_294_967_296.0).round() as u64;
    let start = rng.get_word_pos();
    let chunk = n.div_ceil(threads.max(1)).max(PARALLEL_FROM);
    let mut keep = vec![0u8; n];
    std::thread::scope(|scope| {
        for (i, part) in keep.chunks_mut(chunk).enumerate() {
            let mut rng = rng.clone();
            rng.set_word_pos(start + (i * chunk) as u128);
            scope.spawn(move || {
                for flag in part {
                    *flag = (rng.next_u32() as u64 >= threshold) as u8;
                }
            });
        }
    });
    rng.set_word_pos(start + n as u128);
    keep
}
