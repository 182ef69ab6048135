//! Layer constructors with the official DDPM initialisation: variance scaling, fan_avg,
//! uniform (what Xavier-uniform computes), biases zero, and a near-zero scale on the layers
//! that end each residual branch so every block starts as the identity.

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;

/// Weight scale of "init_scale = 0" layers; the official code uses variance scale 1e-10.
pub const ZERO_INIT_GAIN: f64 = 1e-5;

fn init(gain: f64) -> Initializer {
    Initializer::XavierUniform { gain }
}

fn zero_bias(len: usize, device: &Device) -> Option<Param<Tensor<1>>> {
    Some(Param::from_tensor(Tensor::zeros([len], device)))
}

/// A k×k convolution, "same" padding, given stride and weight gain.
pub fn conv(
    c_in: usize,
    c_out: usize,
    kernel: usize,
    stride: usize,
    gain: f64,
    device: &Device,
) -> Conv2d {
    let mut conv = Conv2dConfig::new([c_in, c_out], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(
            kernel / 2,
            kernel / 2,
            kernel / 2,
            kernel / 2,
        ))
        .with_initializer(init(gain))
        .init(device);
    conv.bias = zero_bias(c_out, device);
    conv
}

/// A dense layer (also the "network in network" 1×1 projections of attention).
pub fn dense(d_in: usize, d_out: usize, gain: f64, device: &Device) -> Linear {
    let mut linear = LinearConfig::new(d_in, d_out)
        .with_initializer(init(gain))
        .init(device);
    linear.bias = zero_bias(d_out, device);
    linear
}
