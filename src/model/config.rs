//! The UNet's shape: the spec's `model:` section ([`UNetShape`], the paper's CIFAR10 model by
//! default), and the network built from it for a dataset and objective ([`UNetConfig`]).

use serde::{Deserialize, Serialize};

/// The network built for one dataset and objective: image channels in and out, image side,
/// and the spec's shape (flattened, so the bench's JSON lists every field at one level).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UNetConfig {
    /// Channels of the input image (1 for digits and MNIST, 3 for CIFAR10).
    pub in_channels: usize,
    /// Channels of the output (doubled by the objective when Σ is learned).
    pub out_channels: usize,
    /// Side of the (square) input image.
    pub image_size: usize,
    #[serde(flatten)]
    pub shape: UNetShape,
}

/// The spec's `model:` section: everything about the UNet that the dataset does not fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UNetShape {
    /// Base channel count `ch`.
    pub channels: usize,
    /// Multiplier of `ch` at each resolution level; one downsampling between levels.
    pub channel_mult: Vec<usize>,
    /// Residual blocks per level on the way down (one more on the way up).
    pub num_res_blocks: usize,
    /// Resolutions (image sides) at which self-attention follows each residual block.
    pub attention_resolutions: Vec<usize>,
    /// Dropout probability inside residual blocks.
    pub dropout: f64,
    /// Groups of every GroupNorm (32 in the paper).
    pub norm_groups: usize,
}

impl Default for UNetShape {
    /// The paper's CIFAR10 model (Appendix B).
    fn default() -> Self {
        Self {
            channels: 128,
            channel_mult: vec![1, 2, 2, 2],
            num_res_blocks: 2,
            attention_resolutions: vec![16],
            dropout: 0.1,
            norm_groups: 32,
        }
    }
}

impl UNetConfig {
    /// The paper's CIFAR10 model (Appendix B): 35.7M parameters.
    pub fn paper_cifar10() -> Self {
        Self {
            in_channels: 3,
            out_channels: 3,
            image_size: 32,
            shape: UNetShape::default(),
        }
    }

    /// Image sides visited by the down path, level by level.
    pub fn level_resolutions(&self) -> Vec<usize> {
        (0..self.shape.channel_mult.len())
            .map(|level| self.image_size >> level)
            .collect()
    }

    /// Why this shape cannot be built, if it cannot (checked before any tensor is made).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.shape.channel_mult.is_empty() {
            out.push(("channel_mult", "must list at least one level".to_string()));
        }
        if self.shape.channel_mult.contains(&0) {
            out.push(("channel_mult", "multipliers must be positive".to_string()));
        }
        let downsamples = self.shape.channel_mult.len().saturating_sub(1);
        if self.image_size == 0 || self.image_size % (1 << downsamples.min(30)) != 0 {
            out.push((
                "channel_mult",
                format!(
                    "{} levels halve the image {} times, but image side {} is not divisible by {}",
                    self.shape.channel_mult.len(),
                    downsamples,
                    self.image_size,
                    1u64 << downsamples.min(63)
                ),
            ));
        }
        let resolutions = self.level_resolutions();
        for r in &self.shape.attention_resolutions {
            if !resolutions.contains(r) {
                out.push((
                    "attention_resolutions",
                    format!("resolution {r} never occurs; the levels run at {resolutions:?}"),
                ));
            }
        }
        if self.shape.channels == 0 {
            out.push(("channels", "must be positive".to_string()));
        } else if self.shape.norm_groups == 0 {
            out.push(("norm_groups", "must be positive".to_string()));
        } else {
            for m in std::iter::once(1).chain(self.shape.channel_mult.iter().copied()) {
                if (self.shape.channels * m) % self.shape.norm_groups != 0 {
                    out.push((
                        "norm_groups",
                        format!(
                            "{} channels cannot be split into {} groups",
                            self.shape.channels * m,
                            self.shape.norm_groups
                        ),
                    ));
                    break;
                }
            }
        }
        if !(0.0..1.0).contains(&self.shape.dropout) {
            out.push((
                "dropout",
                format!("must be in [0, 1), got {}", self.shape.dropout),
            ));
        }
        out
    }
}
