//! The paper's UNet (Appendix B, after PixelCNN++): a down path of residual blocks with
//! attention at chosen resolutions, a middle of res–attn–res, an up path fed by skip
//! connections, and a GN–swish–conv head. Timesteps enter through a sinusoidal embedding.

use burn::nn::conv::Conv2d;
use burn::nn::{GroupNorm, GroupNormConfig, Linear};
use burn::prelude::*;

use super::blocks::{AttnBlock, ResBlock};
use super::config::UNetConfig;
use super::kernels::{conv2d, group_norm, silu, upsample_nearest};
use super::layers::{ZERO_INIT_GAIN, conv, dense};
use super::param_ids::with_path_ids;
use super::time_embedding::sinusoidal_embedding;

/// One resolution level: residual blocks, each optionally followed by attention, and the
/// resampling conv that leaves the level (none at the last level going down / first going up).
#[derive(Module, Debug)]
pub struct Level {
    blocks: Vec<ResBlock>,
    attentions: Vec<Option<AttnBlock>>,
    resample: Option<Conv2d>,
}

#[derive(Module, Debug)]
pub struct UNet {
    time_dense1: Linear,
    time_dense2: Linear,
    conv_in: Conv2d,
    down: Vec<Level>,
    mid_block1: ResBlock,
    mid_attn: AttnBlock,
    mid_block2: ResBlock,
    up: Vec<Level>,
    norm_out: GroupNorm,
    conv_out: Conv2d,
    /// Width of the sinusoidal embedding (= base channels).
    embed_dim: usize,
}

impl UNetConfig {
    /// Builds the network with freshly drawn weights (seed the device first for determinism).
    /// The weights are drawn in a fixed order: down path, middle, up path, then the time
    /// embedding, the input conv and the head.
    pub fn init(&self, device: &Device) -> UNet {
        let ch = self.shape.channels;
        let (down, skip_channels, current) = self.down_path(device);
        let mid_block1 = self.res_block(current, current, device);
        let mid_attn = AttnBlock::new(current, self.shape.norm_groups, device);
        let mid_block2 = self.res_block(current, current, device);
        let (up, current) = self.up_path(current, skip_channels, device);
        let net = UNet {
            time_dense1: dense(ch, 4 * ch, 1.0, device),
            time_dense2: dense(4 * ch, 4 * ch, 1.0, device),
            conv_in: conv(self.in_channels, ch, 3, 1, 1.0, device),
            down,
            mid_block1,
            mid_attn,
            mid_block2,
            up,
            norm_out: GroupNormConfig::new(self.shape.norm_groups, current).init(device),
            conv_out: conv(current, self.out_channels, 3, 1, ZERO_INIT_GAIN, device),
            embed_dim: ch,
        };
        with_path_ids(net)
    }

    /// A residual block taking the time embedding (4 × the base channels).
    fn res_block(&self, c_in: usize, c_out: usize, device: &Device) -> ResBlock {
        let time_dim = 4 * self.shape.channels;
        ResBlock::new(
            c_in,
            c_out,
            time_dim,
            self.shape.norm_groups,
            self.shape.dropout,
            device,
        )
    }

    /// Self-attention over `c` channels if the spec asks for it at resolution `res`.
    fn attention_at(&self, res: usize, c: usize, device: &Device) -> Option<AttnBlock> {
        self.shape
            .attention_resolutions
            .contains(&res)
            .then(|| AttnBlock::new(c, self.shape.norm_groups, device))
    }

    /// The down path's levels, the channels of every activation kept for a skip connection,
    /// and the channels it ends with.
    fn down_path(&self, device: &Device) -> (Vec<Level>, Vec<usize>, usize) {
        let ch = self.shape.channels;
        let resolutions = self.level_resolutions();
        let last = self.shape.channel_mult.len() - 1;
        let mut skip_channels = vec![ch];
        let mut current = ch;
        let mut down = Vec::new();
        for (level, &mult) in self.shape.channel_mult.iter().enumerate() {
            let (mut blocks, mut attentions) = (Vec::new(), Vec::new());
            for _ in 0..self.shape.num_res_blocks {
                blocks.push(self.res_block(current, ch * mult, device));
                current = ch * mult;
                attentions.push(self.attention_at(resolutions[level], current, device));
                skip_channels.push(current);
            }
            let resample = (level != last).then(|| conv(current, current, 3, 2, 1.0, device));
            if level != last {
                skip_channels.push(current);
            }
            down.push(Level {
                blocks,
                attentions,
                resample,
            });
        }
        (down, skip_channels, current)
    }

    /// The up path, deepest level first (each block consumes one skip activation), and the
    /// channels it ends with.
    fn up_path(
        &self,
        mut current: usize,
        mut skip_channels: Vec<usize>,
        device: &Device,
    ) -> (Vec<Level>, usize) {
        let ch = self.shape.channels;
        let resolutions = self.level_resolutions();
        let mut up = Vec::new();
        for (level, &mult) in self.shape.channel_mult.iter().enumerate().rev() {
            let (mut blocks, mut attentions) = (Vec::new(), Vec::new());
            for _ in 0..=self.shape.num_res_blocks {
                let skip = skip_channels.pop().expect("one skip per up block");
                blocks.push(self.res_block(current + skip, ch * mult, device));
                current = ch * mult;
                attentions.push(self.attention_at(resolutions[level], current, device));
            }
            let resample = (level != 0).then(|| conv(current, current, 3, 1, 1.0, device));
            up.push(Level {
                blocks,
                attentions,
                resample,
            });
        }
        (up, current)
    }
}

fn attend(attention: &Option<AttnBlock>, h: Tensor<4>) -> Tensor<4> {
    match attention {
        Some(attn) => attn.forward(h),
        None => h,
    }
}

impl UNet {
    /// x: [batch, in_ch, h, w] at the paper's timesteps `t` (one per example) →
    /// [batch, out_ch, h, w].
    pub fn forward(&self, x: Tensor<4>, t: &[usize]) -> Tensor<4> {
        let device = x.device();
        // [batch, ch], in the input's dtype (bf16 under mixed precision). When every image
        // stands at one t (sampling, the bound's loop over t) that is one row: the time MLP runs
        // once and the residual blocks broadcast its output over the batch.
        let rows = match t.first() {
            Some(&first) if t.iter().all(|&other| other == first) => &t[..1],
            _ => t,
        };
        let temb = sinusoidal_embedding(rows, self.embed_dim, &device).cast(x.dtype());
        let temb = self
            .time_dense2
            .forward(silu(self.time_dense1.forward(temb))); // [batch or 1, 4ch]

        let mut h = conv2d(&self.conv_in, x);
        let mut skips = vec![h.clone()];
        for level in &self.down {
            for (block, attention) in level.blocks.iter().zip(&level.attentions) {
                h = attend(attention, block.forward(h, temb.clone()));
                skips.push(h.clone());
            }
            if let Some(downsample) = &level.resample {
                h = conv2d(downsample, h);
                skips.push(h.clone());
            }
        }

        h = self.mid_block1.forward(h, temb.clone());
        h = self.mid_attn.forward(h);
        h = self.mid_block2.forward(h, temb.clone());

        for level in &self.up {
            for (block, attention) in level.blocks.iter().zip(&level.attentions) {
                let skip = skips.pop().expect("one skip per up block");
                h = attend(
                    attention,
                    block.forward(Tensor::cat(vec![h, skip], 1), temb.clone()),
                );
            }
            if let Some(conv_after_upsample) = &level.resample {
                h = conv2d(conv_after_upsample, upsample_nearest(h));
            }
        }

        conv2d(&self.conv_out, silu(group_norm(&self.norm_out, h)))
    }
}
