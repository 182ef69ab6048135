//! The UNet's convolution, group normalisation, SiLU, softmax, dropout and upsampling:
//! LibTorch's own kernels (forward and backward) on a LibTorch device, Burn's ops everywhere
//! else. Same math either way; the tests check the two agree (tests/it/libtorch_kernels.rs).

use burn::nn::conv::Conv2d;
use burn::nn::{Dropout, GroupNorm};
use burn::prelude::*;

/// `conv.forward(x)`.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "tch")]
    let x = match crate::libtorch::conv2d(conv, x) {
        Ok(out) => return out,
        Err(x) => x,
    };
    conv.forward(x)
}

/// `norm.forward(x)`.
pub fn group_norm<const D: usize>(norm: &GroupNorm, x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "tch")]
    let x = match crate::libtorch::group_norm(norm, x) {
        Ok(out) => return out,
        Err(x) => x,
    };
    norm.forward(x)
}

/// x·sigmoid(x) (the paper's swish).
pub fn silu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "tch")]
    let x = match crate::libtorch::silu(x) {
        Ok(out) => return out,
        Err(x) => x,
    };
    burn::tensor::activation::silu(x)
}

/// Softmax over `dim`.
pub fn softmax<const D: usize>(x: Tensor<D>, dim: usize) -> Tensor<D> {
    #[cfg(feature = "tch")]
    let x = match crate::libtorch::softmax(x, dim) {
        Ok(out) => return out,
        Err(x) => x,
    };
    burn::tensor::activation::softmax(x, dim)
}

/// Nearest-neighbour ×2 upsampling: [batch, c, h, w] → [batch, c, 2h, 2w].
pub fn upsample_nearest(x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "tch")]
    let x = match crate::libtorch::upsample_nearest(x) {
        Ok(out) => return out,
        Err(x) => x,
    };
    // Each value repeated over a new 2×2 (one copy; its gradient sums the four).
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h, 1, w, 1])
        .expand([b, c, h, 2, w, 2])
        .reshape([b, c, 2 * h, 2 * w])
}

/// Seeds a training step's dropout masks: the backend's generator (Burn's dropout; LibTorch's
/// on CUDA) and, with the `tch` feature, this thread's stream of LibTorch's CPU masks.
pub fn seed_dropout(device: &Device, seed: u64) {
    device.seed(seed);
    #[cfg(feature = "tch")]
    crate::libtorch::dropout_mask::seed(seed);
}

/// `dropout.forward(x)` (active only while training under autodiff).
pub fn dropout<const D: usize>(dropout: &Dropout, x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "tch")]
    let x = match crate::libtorch::dropout(dropout, x) {
        Ok(out) => return out,
        Err(x) => x,
    };
    dropout.forward(x)
}
