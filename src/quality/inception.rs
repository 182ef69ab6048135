//! Inception-v3 as pytorch-fid uses it for FID (the 2015 TensorFlow network ported to PyTorch:
//! Heusel et al.'s FID), loaded from the user's copy of pytorch-fid's weights file
//! (`pt_inception-2015-12-05-6726825d.pth`). Field names are the state dict's keys, so the
//! file loads without renaming. Inputs in [−1, 1] are resized to 299×299 (bilinear, no corner
//! alignment) as pytorch-fid does; the 2048-wide pool3 output is the FID feature.
//!
//! pytorch-fid's blocks differ from torchvision's Inception-v3 in three places that change the
//! numbers: average pools that do not count padding (A, C, E_1) and a max pool in the last
//! block's pooling branch (E_2).
#![allow(non_snake_case)] // the field names are pytorch-fid's state-dict keys

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};

/// The FID feature width (pool3).
pub const INCEPTION_FEATURES: usize = 2048;
/// Classes of the 2015 network's classifier (1000 ImageNet classes and 8 unused).
pub const INCEPTION_CLASSES: usize = 1008;
const SIDE: usize = 299;

/// Conv (no bias) → batch norm (ε = 0.001) → ReLU.
#[derive(Module, Debug)]
pub struct BasicConv2d {
    conv: Conv2d,
    bn: BatchNorm,
}

impl BasicConv2d {
    fn new(
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
    fn square(c_in: usize, c_out: usize, k: usize, device: &Device) -> Self {
        Self::new([c_in, c_out], [k, k], 1, [k / 2, k / 2], device)
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.bn.forward(self.conv.forward(x)))
    }
}

/// `x` through `layers` one after another: one branch of an Inception block.
fn chain(layers: &[&BasicConv2d], x: Tensor<4>) -> Tensor<4> {
    layers.iter().fold(x, |h, layer| layer.forward(h))
}

fn avg_pool_3x3_excluding_padding() -> AvgPool2d {
    AvgPool2dConfig::new([3, 3])
        .with_strides([1, 1])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_count_include_pad(false)
        .init()
}

fn max_pool_3x3(stride: usize, pad: usize) -> MaxPool2d {
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
    fn new(c_in: usize, pool_features: usize, device: &Device) -> Self {
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

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
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
    fn new(c_in: usize, device: &Device) -> Self {
        Self {
            branch3x3: BasicConv2d::new([c_in, 384], [3, 3], 2, [0, 0], device),
            branch3x3dbl_1: BasicConv2d::square(c_in, 64, 1, device),
            branch3x3dbl_2: BasicConv2d::square(64, 96, 3, device),
            branch3x3dbl_3: BasicConv2d::new([96, 96], [3, 3], 2, [0, 0], device),
            pool: max_pool_3x3(2, 0),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
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
    fn new(c_in: usize, c7: usize, device: &Device) -> Self {
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

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
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
    fn new(c_in: usize, device: &Device) -> Self {
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

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
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
    fn new(c_in: usize, max_pool: bool, device: &Device) -> Self {
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

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
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

/// pytorch-fid's FID Inception-v3, up to pool3, with its 1008-way classifier `fc` for IS.
#[derive(Module, Debug)]
pub struct FidInception {
    Conv2d_1a_3x3: BasicConv2d,
    Conv2d_2a_3x3: BasicConv2d,
    Conv2d_2b_3x3: BasicConv2d,
    Conv2d_3b_1x1: BasicConv2d,
    Conv2d_4a_3x3: BasicConv2d,
    Mixed_5b: InceptionA,
    Mixed_5c: InceptionA,
    Mixed_5d: InceptionA,
    Mixed_6a: InceptionB,
    Mixed_6b: InceptionC,
    Mixed_6c: InceptionC,
    Mixed_6d: InceptionC,
    Mixed_6e: InceptionC,
    Mixed_7a: InceptionD,
    Mixed_7b: InceptionE,
    Mixed_7c: InceptionE,
    fc: Linear,
    stem_pool: MaxPool2d,
}

impl FidInception {
    /// The architecture with untrained weights (load the real ones with `load_pytorch_fid`).
    pub fn new(device: &Device) -> Self {
        let valid = |c: [usize; 2], stride| BasicConv2d::new(c, [3, 3], stride, [0, 0], device);
        Self {
            Conv2d_1a_3x3: valid([3, 32], 2),
            Conv2d_2a_3x3: valid([32, 32], 1),
            Conv2d_2b_3x3: BasicConv2d::square(32, 64, 3, device),
            Conv2d_3b_1x1: BasicConv2d::square(64, 80, 1, device),
            Conv2d_4a_3x3: valid([80, 192], 1),
            Mixed_5b: InceptionA::new(192, 32, device),
            Mixed_5c: InceptionA::new(256, 64, device),
            Mixed_5d: InceptionA::new(288, 64, device),
            Mixed_6a: InceptionB::new(288, device),
            Mixed_6b: InceptionC::new(768, 128, device),
            Mixed_6c: InceptionC::new(768, 160, device),
            Mixed_6d: InceptionC::new(768, 160, device),
            Mixed_6e: InceptionC::new(768, 192, device),
            Mixed_7a: InceptionD::new(768, device),
            Mixed_7b: InceptionE::new(1280, false, device),
            Mixed_7c: InceptionE::new(2048, true, device),
            fc: LinearConfig::new(INCEPTION_FEATURES, INCEPTION_CLASSES).init(device),
            stem_pool: max_pool_3x3(2, 0),
        }
    }

    /// pool3 features [n, 2048] of images [n, c, h, w] in [−1, 1] (c = 1 is repeated to RGB).
    pub fn features(&self, x: Tensor<4>) -> Tensor<2> {
        let [n, c, _, _] = x.dims();
        let x = if c == 1 { x.repeat_dim(1, 3) } else { x };
        let x = interpolate(
            x,
            InterpolateOptions::new(InterpolateMode::Bilinear)
                .with_align_corners(false)
                .with_output_size([SIDE, SIDE]),
        );
        let x = self.Conv2d_1a_3x3.forward(x);
        let x = self.Conv2d_2a_3x3.forward(x);
        let x = self.stem_pool.forward(self.Conv2d_2b_3x3.forward(x));
        let x = self.Conv2d_3b_1x1.forward(x);
        let x = self.stem_pool.forward(self.Conv2d_4a_3x3.forward(x));
        let x = self.Mixed_5b.forward(x);
        let x = self.Mixed_5c.forward(x);
        let x = self.Mixed_5d.forward(x);
        let x = self.Mixed_6a.forward(x);
        let x = self.Mixed_6b.forward(x);
        let x = self.Mixed_6c.forward(x);
        let x = self.Mixed_6d.forward(x);
        let x = self.Mixed_6e.forward(x);
        let x = self.Mixed_7a.forward(x);
        let x = self.Mixed_7b.forward(x);
        let x = self.Mixed_7c.forward(x);
        x.mean_dim(3).mean_dim(2).reshape([n, INCEPTION_FEATURES])
    }

    /// Class logits [n, 1008] from pool3 features.
    pub fn logits(&self, features: Tensor<2>) -> Tensor<2> {
        self.fc.forward(features)
    }
}

/// Where the weights come from, for the message when they are not there.
pub const WEIGHTS_HELP: &str = "FID with Inception-v3 needs pytorch-fid's weights file \
pt_inception-2015-12-05-6726825d.pth (pytorch-fid's GitHub release \"fid_weights\"; pytorch-fid \
keeps a downloaded copy in ~/.cache/torch/hub/checkpoints/). This harness never downloads it: \
fetch it where there is network access and pass its path";

/// Loads pytorch-fid's Inception weights from `path` (a PyTorch state dict).
pub fn load_pytorch_fid(path: &std::path::Path, device: &Device) -> Result<FidInception, String> {
    use burn::store::{ModuleSnapshot, PytorchStore};
    if !path.is_file() {
        return Err(format!("{}: no such file. {WEIGHTS_HELP}", path.display()));
    }
    let mut model = FidInception::new(device);
    let mut store = PytorchStore::from_file(path);
    let result = model
        .load_from(&mut store)
        .map_err(|e| format!("{}: not a PyTorch state dict: {e}", path.display()))?;
    if let Some(error) = result.errors.first() {
        return Err(format!(
            "{}: not pytorch-fid's Inception weights: {error}",
            path.display()
        ));
    }
    if let Some((key, _)) = result.missing.first() {
        return Err(format!(
            "{}: not pytorch-fid's Inception weights: {} tensors missing (first: {key})",
            path.display(),
            result.missing.len()
        ));
    }
    Ok(model)
}
