//! The UNet's convolution, group normalisation, SiLU and dropout: LibTorch's own kernels (forward and
//! backward) on a LibTorch device, Burn's ops everywhere else. Same math either way; the
//! tests check the two agree (tests/it/libtorch_kernels.rs).

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

/// `dropout.forward(x)` (active only while training under autodiff).
pub fn dropout<const D: usize>(dropout: &Dropout, x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "tch")]
    let x = match crate::libtorch::dropout(dropout, x) {
        Ok(out) => return out,
        Err(x) => x,
    };
    dropout.forward(x)
}
