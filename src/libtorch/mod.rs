//! The LibTorch room (the `tch` feature): the UNet's convolution, group normalisation, SiLU,
#![allow(deprecated)] // burn-tch is deprecated upstream (removed in Burn 0.23); this room goes with it
//! softmax, dropout and upsampling on LibTorch's own forward and backward kernels (ops.rs, through Burn's
//! backend-extension API, and csrc/libtorch_kernels.cpp via shim.rs for the two tch does not
//! bind). Each entry point takes a tensor on any device and hands it back untouched unless it
//! lives on LibTorch, so every other device keeps Burn's own ops. Burn 0.23 drops burn-tch;
//! this folder is what goes with it.

pub mod dropout_mask;
pub mod fused_update;
mod ops;
pub mod shim;

use burn::backend::{Dispatch, DispatchTensor, DispatchTensorKind};
use burn::nn::conv::Conv2d;
use burn::nn::{Dropout, GroupNorm, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{ConvOptions, InterpolateMode, InterpolateOptions};

pub use ops::LibTorchKernels;

/// `x` as a dispatch tensor if it lives on LibTorch (tracked by autodiff or not), else `x`.
fn on_libtorch<const D: usize>(x: Tensor<D>) -> Result<DispatchTensor, Tensor<D>> {
    let x = x.into_dispatch();
    let libtorch = match &x.kind {
        DispatchTensorKind::LibTorch(_) => true,
        DispatchTensorKind::Autodiff(inner) => matches!(**inner, DispatchTensorKind::LibTorch(_)),
        #[allow(unreachable_patterns)]
        _ => false,
    };
    if libtorch {
        Ok(x)
    } else {
        Err(Tensor::from_dispatch(x))
    }
}

/// `conv.forward(x)` on LibTorch's kernels; `Err(x)` off LibTorch or for asymmetric padding.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Result<Tensor<4>, Tensor<4>> {
    let padding = match conv.padding {
        PaddingConfig2d::Valid => [0, 0],
        PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => {
            [top, left]
        }
        _ => return Err(x),
    };
    let x = on_libtorch(x)?;
    let options = ConvOptions::new(conv.stride, padding, conv.dilation, conv.groups);
    let weight = conv.weight.val().into_dispatch();
    let out = match &conv.bias {
        Some(bias) => <Dispatch as LibTorchKernels>::conv2d_native(
            x,
            weight,
            bias.val().into_dispatch(),
            options,
        ),
        None => <Dispatch as LibTorchKernels>::conv2d_native_unbiased(x, weight, options),
    };
    Ok(Tensor::from_dispatch(out))
}

/// `norm.forward(x)` on LibTorch's kernels; `Err(x)` off LibTorch or without γ and β.
pub fn group_norm<const D: usize>(norm: &GroupNorm, x: Tensor<D>) -> Result<Tensor<D>, Tensor<D>> {
    let (Some(gamma), Some(beta)) = (&norm.gamma, &norm.beta) else {
        return Err(x);
    };
    let x = on_libtorch(x)?;
    let out = <Dispatch as LibTorchKernels>::group_norm_native(
        x,
        gamma.val().into_dispatch(),
        beta.val().into_dispatch(),
        norm.num_groups,
        norm.epsilon,
    );
    Ok(Tensor::from_dispatch(out))
}

/// `dropout.forward(x)` on LibTorch's kernel while training under autodiff (otherwise it is
/// the identity, as Burn's); `Err(x)` off LibTorch.
pub fn dropout<const D: usize>(dropout: &Dropout, x: Tensor<D>) -> Result<Tensor<D>, Tensor<D>> {
    let active = dropout.training.is_enabled() && x.device().is_autodiff() && dropout.prob > 0.0;
    if !active {
        return Err(x);
    }
    let x = on_libtorch(x)?;
    let out = <Dispatch as LibTorchKernels>::dropout_native(x, dropout.prob);
    Ok(Tensor::from_dispatch(out))
}

/// Softmax over `dim` on LibTorch's kernel; `Err(x)` off LibTorch.
pub fn softmax<const D: usize>(x: Tensor<D>, dim: usize) -> Result<Tensor<D>, Tensor<D>> {
    let x = on_libtorch(x)?;
    Ok(Tensor::from_dispatch(
        <Dispatch as LibTorchKernels>::softmax_native(x, dim),
    ))
}

/// Nearest-neighbour ×2 upsampling of [batch, c, h, w] on LibTorch's kernels (burn-tch's
/// `interpolate` and its backward are upsample_nearest2d's); `Err(x)` off LibTorch.
pub fn upsample_nearest(x: Tensor<4>) -> Result<Tensor<4>, Tensor<4>> {
    let [_, _, h, w] = x.dims();
    let x = Tensor::<4>::from_dispatch(on_libtorch(x)?);
    let nearest =
        InterpolateOptions::new(InterpolateMode::Nearest).with_output_size([2 * h, 2 * w]);
    Ok(interpolate(x, nearest))
}

/// SiLU on LibTorch's kernel; `Err(x)` off LibTorch.
pub fn silu<const D: usize>(x: Tensor<D>) -> Result<Tensor<D>, Tensor<D>> {
    let x = on_libtorch(x)?;
    Ok(Tensor::from_dispatch(
        <Dispatch as LibTorchKernels>::silu_native(x),
    ))
}
