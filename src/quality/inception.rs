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

use burn::nn::pool::MaxPool2d;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};

use super::QualityError;
use super::inception_blocks::{
    BasicConv2d, InceptionA, InceptionB, InceptionC, InceptionD, InceptionE, max_pool_3x3,
};

/// The FID feature width (pool3).
pub const INCEPTION_FEATURES: usize = 2048;
/// Classes of the 2015 network's classifier (1000 ImageNet classes and 8 unused).
pub const INCEPTION_CLASSES: usize = 1008;
const SIDE: usize = 299;

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
pub fn load_pytorch_fid(
    path: &std::path::Path,
    device: &Device,
) -> Result<FidInception, QualityError> {
    use burn::store::{ModuleSnapshot, PytorchStore};
    let refused = |message: String| QualityError::Weights {
        path: path.to_path_buf(),
        message,
    };
    if !path.is_file() {
        return Err(refused(format!("no such file. {WEIGHTS_HELP}")));
    }
    let mut model = FidInception::new(device);
    let mut store = PytorchStore::from_file(path);
    let result = model
        .load_from(&mut store)
        .map_err(|e| refused(format!("not a PyTorch state dict: {e}")))?;
    if let Some(error) = result.errors.first() {
        return Err(refused(format!(
            "not pytorch-fid's Inception weights: {error}"
        )));
    }
    if let Some((key, _)) = result.missing.first() {
        return Err(refused(format!(
            "not pytorch-fid's Inception weights: {} tensors missing (first: {key})",
            result.missing.len()
        )));
    }
    Ok(model)
}
