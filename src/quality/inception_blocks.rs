//! The blocks of pytorch-fid's Inception-v3 (quality/inception.rs puts them together): the
//! conv–BN–ReLU unit and the Mixed blocks A–E. Field names are pytorch-fid's state-dict keys.
//! Its blocks differ from torchvision's in three places that change the numbers: average pools
//! that do not count padding (A, C, E_1) and a max pool in the last block's pooling branch (E_2).
#![allow(non_snake_case)] // the field names are pytorch-fid's state-dict keys

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

/// Conv (no bias) → batch norm (ε = 0.001) → ReLU.
#[derive(Module, Debug)]
pub struct BasicConv2d {
    conv: Conv2d,
    bn: BatchNorm,
}

impl BasicConv2d {
    pub(super) fn new(
        channels: [usize; 2],
        kernel: [usize; 2],
        stride: usize,
        padding: [usize; 2],
        device: &Device,
    ) -> Self {
        let [ph, pw] = padding;
        Self {
            conv: Conv2dConfig::new(channels, kernel)
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(ph, pw, ph, pw))
                .with_bias(false)
                .init(device),
            bn: BatchNormConfig::new(channels[1])
                .with_epsilon(0.001)
                .init(device),
        }
    }

    /// A square k×k convolution with stride 1 and "same" padding.
    pub(super) fn square(c_in: usize, c_out: usize, k: usize, device: &Device) -> Self {
        Self::new([c_in, c_out], [k, k], 1, [k / 2, k / 2], device)
    }

    pub(super) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.bn.forward(self.conv.forward(x)))
    }
}

/// `x` through `layers` one after another: one branch of an Inception block.
pub(super) fn chain(layers: &[&BasicConv2d], x: Tensor<4>) -> Tensor<4> {
    layers.iter().fold(x, |h, layer| layer.forward(h))
}

pub(super) fn avg_pool_3x3_excluding_padding() -> AvgPool2d {
    AvgPool2dConfig::new([3, 3])
        .with_strides([1, 1])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_count_include_pad(false)
        .init()
}

pub(super) fn max_pool_3x3(stride: usize, pad: usize) -> MaxPool2d {
    MaxPool2dConfig::new([3, 3])
        .with_strides([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .init()
}

/// FIDInceptionA (Mixed_5b–d).
#[derive(Module, Debug)]
pub struct InceptionA {
    branch1x1: BasicConv2d,
    branch5x5_1: BasicConv2d,
    branch5x5_2: BasicConv2d,
    branch3x3dbl_1: BasicConv2d,
    branch3x3dbl_2: BasicConv2d,
    branch3x3dbl_3: BasicConv2d,
    branch_pool: BasicConv2d,
    pool: AvgPool2d,
}

impl InceptionA {
    pub(super) fn new(c_in: usize, pool_features: usize, device: &Device) -> Self {
        Self {
            branch1x1: BasicConv2d::square(c_in, 64, 1, device),
            branch5x5_1: BasicConv2d::square(c_in, 48, 1, device),
            branch5x5_2: BasicConv2d::square(48, 64, 5, device),
            branch3x3dbl_1: BasicConv2d::square(c_in, 64, 1, device),
            branch3x3dbl_2: BasicConv2d::square(64, 96, 3, device),
            branch3x3dbl_3: BasicConv2d::square(96, 96, 3, device),
            branch_pool: BasicConv2d::square(c_in, pool_features, 1, device),
            pool: avg_pool_3x3_excluding_padding(),
        }
    }

    pub(super) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b5 = chain(&[&self.branch5x5_1, &self.branch5x5_2], x.clone());
        let dbl = [
            &self.branch3x3dbl_1,
            &self.branch3x3dbl_2,
            &self.branch3x3dbl_3,
        ];
        let b3 = chain(&dbl, x.clone());
        let bp = self.branch_pool.forward(self.pool.forward(x));
        Tensor::cat(vec![b1, b5, b3, bp], 1)
    }
}

/// InceptionB (Mixed_6a): the grid reduction 35 → 17.
#[derive(Module, Debug)]
pub struct InceptionB {
    branch3x3: BasicConv2d,
    branch3x3dbl_1: BasicConv2d,
    branch3x3dbl_2: BasicConv2d,
    branch3x3dbl_3: BasicConv2d,
    pool: MaxPool2d,
}

impl InceptionB {
    pub(super) fn new(c_in: usize, device: &Device) -> Self {
        Self {
            branch3x3: BasicConv2d::new([c_in, 384], [3, 3], 2, [0, 0], device),
            branch3x3dbl_1: BasicConv2d::square(c_in, 64, 1, device),
            branch3x3dbl_2: BasicConv2d::square(64, 96, 3, device),
            branch3x3dbl_3: BasicConv2d::new([96, 96], [3, 3], 2, [0, 0], device),
            pool: max_pool_3x3(2, 0),
        }
    }

    pub(super) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b3 = self.branch3x3.forward(x.clone());
        let dbl = [
            &self.branch3x3dbl_1,
            &self.branch3x3dbl_2,
            &self.branch3x3dbl_3,
        ];
        let bd = chain(&dbl, x.clone());
        Tensor::cat(vec![b3, bd, self.pool.forward(x)], 1)
    }
}

/// FIDInceptionC (Mixed_6b–e): factorised 7×7 convolutions.
#[derive(Module, Debug)]
pub struct InceptionC {
    branch1x1: BasicConv2d,
    branch7x7_1: BasicConv2d,
    branch7x7_2: BasicConv2d,
    branch7x7_3: BasicConv2d,
    branch7x7dbl_1: BasicConv2d,
    branch7x7dbl_2: BasicConv2d,
    branch7x7dbl_3: BasicConv2d,
    branch7x7dbl_4: BasicConv2d,
    branch7x7dbl_5: BasicConv2d,
    branch_pool: BasicConv2d,
    pool: AvgPool2d,
}

impl InceptionC {
    pub(super) fn new(c_in: usize, c7: usize, device: &Device) -> Self {
        let row = |a, b| BasicConv2d::new([a, b], [1, 7], 1, [0, 3], device);
        let col = |a, b| BasicConv2d::new([a, b], [7, 1], 1, [3, 0], device);
        Self {
            branch1x1: BasicConv2d::square(c_in, 192, 1, device),
            branch7x7_1: BasicConv2d::square(c_in, c7, 1, device),
            branch7x7_2: row(c7, c7),
            branch7x7_3: col(c7, 192),
            branch7x7dbl_1: BasicConv2d::square(c_in, c7, 1, device),
            branch7x7dbl_2: col(c7, c7),
            branch7x7dbl_3: row(c7, c7),
            branch7x7dbl_4: col(c7, c7),
            branch7x7dbl_5: row(c7, 192),
            branch_pool: BasicConv2d::square(c_in, 192, 1, device),
            pool: avg_pool_3x3_excluding_padding(),
        }
    }

    pub(super) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b7 = chain(
            &[&self.branch7x7_1, &self.branch7x7_2, &self.branch7x7_3],
            x.clone(),
        );
        let dbl = [
            &self.branch7x7dbl_1,
            &self.branch7x7dbl_2,
            &self.branch7x7dbl_3,
            &self.branch7x7dbl_4,
            &self.branch7x7dbl_5,
        ];
        let bd = chain(&dbl, x.clone());
        let bp = self.branch_pool.forward(self.pool.forward(x));
        Tensor::cat(vec![b1, b7, bd, bp], 1)
    }
}

/// InceptionD (Mixed_7a): the grid reduction 17 → 8.
#[derive(Module, Debug)]
pub struct InceptionD {
    branch3x3_1: BasicConv2d,
    branch3x3_2: BasicConv2d,
    branch7x7x3_1: BasicConv2d,
    branch7x7x3_2: BasicConv2d,
    branch7x7x3_3: BasicConv2d,
    branch7x7x3_4: BasicConv2d,
    pool: MaxPool2d,
}

impl InceptionD {
    pub(super) fn new(c_in: usize, device: &Device) -> Self {
        Self {
            branch3x3_1: BasicConv2d::square(c_in, 192, 1, device),
            branch3x3_2: BasicConv2d::new([192, 320], [3, 3], 2, [0, 0], device),
            branch7x7x3_1: BasicConv2d::square(c_in, 192, 1, device),
            branch7x7x3_2: BasicConv2d::new([192, 192], [1, 7], 1, [0, 3], device),
            branch7x7x3_3: BasicConv2d::new([192, 192], [7, 1], 1, [3, 0], device),
            branch7x7x3_4: BasicConv2d::new([192, 192], [3, 3], 2, [0, 0], device),
            pool: max_pool_3x3(2, 0),
        }
    }

    pub(super) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b3 = chain(&[&self.branch3x3_1, &self.branch3x3_2], x.clone());
        let x7 = [
            &self.branch7x7x3_1,
            &self.branch7x7x3_2,
            &self.branch7x7x3_3,
            &self.branch7x7x3_4,
        ];
        let b7 = chain(&x7, x.clone());
        Tensor::cat(vec![b3, b7, self.pool.forward(x)], 1)
    }
}

/// FIDInceptionE_1 (Mixed_7b, average pool without padding) and FIDInceptionE_2 (Mixed_7c,
/// max pool): split 1×3 / 3×1 branches.
#[derive(Module, Debug)]
pub struct InceptionE {
    branch1x1: BasicConv2d,
    branch3x3_1: BasicConv2d,
    branch3x3_2a: BasicConv2d,
    branch3x3_2b: BasicConv2d,
    branch3x3dbl_1: BasicConv2d,
    branch3x3dbl_2: BasicConv2d,
    branch3x3dbl_3a: BasicConv2d,
    branch3x3dbl_3b: BasicConv2d,
    branch_pool: BasicConv2d,
    avg_pool: Option<AvgPool2d>,
    max_pool: Option<MaxPool2d>,
}

impl InceptionE {
    pub(super) fn new(c_in: usize, max_pool: bool, device: &Device) -> Self {
        let row = |a, b| BasicConv2d::new([a, b], [1, 3], 1, [0, 1], device);
        let col = |a, b| BasicConv2d::new([a, b], [3, 1], 1, [1, 0], device);
        Self {
            branch1x1: BasicConv2d::square(c_in, 320, 1, device),
            branch3x3_1: BasicConv2d::square(c_in, 384, 1, device),
            branch3x3_2a: row(384, 384),
            branch3x3_2b: col(384, 384),
            branch3x3dbl_1: BasicConv2d::square(c_in, 448, 1, device),
            branch3x3dbl_2: BasicConv2d::square(448, 384, 3, device),
            branch3x3dbl_3a: row(384, 384),
            branch3x3dbl_3b: col(384, 384),
            branch_pool: BasicConv2d::square(c_in, 192, 1, device),
            avg_pool: (!max_pool).then(avg_pool_3x3_excluding_padding),
            max_pool: max_pool.then(|| max_pool_3x3(1, 1)),
        }
    }

    pub(super) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b1 = self.branch1x1.forward(x.clone());
        let h = self.branch3x3_1.forward(x.clone());
        let b3 = Tensor::cat(
            vec![
                self.branch3x3_2a.forward(h.clone()),
                self.branch3x3_2b.forward(h),
            ],
            1,
        );
        let h = chain(&[&self.branch3x3dbl_1, &self.branch3x3dbl_2], x.clone());
        let bd = Tensor::cat(
            vec![
                self.branch3x3dbl_3a.forward(h.clone()),
                self.branch3x3dbl_3b.forward(h),
            ],
            1,
        );
        let pooled = match (&self.avg_pool, &self.max_pool) {
            (Some(pool), _) => pool.forward(x),
            (None, Some(pool)) => pool.forward(x),
            (None, None) => unreachable!("InceptionE::new sets one pool"),
        };
        let bp = self.branch_pool.forward(pooled);
        Tensor::cat(vec![b1, b3, bd, bp], 1)
    }
}
