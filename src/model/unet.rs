//! The paper's UNet (Appendix B, after PixelCNN++): a down path of residual blocks with
//! attention at chosen resolutions, a middle of res–attn–res, an up path fed by skip
//! connections, and a GN–swish–conv head. Timesteps enter through a sinusoidal embedding.

use burn::nn::conv::Conv2d;
use burn::nn::{GroupNorm, GroupNormConfig, Linear};
use burn::prelude::*;
use burn::tensor::activation::silu;

use super::blocks::{AttnBlock, ResBlock, upsample_nearest};
use super::config::UNetConfig;
use super::layers::{ZERO_INIT_GAIN, conv, dense};
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
    pub fn init(&self, device: &Device) -> UNet {
        let ch = self.channels;
        let time_dim = 4 * ch;
        let g = self.norm_groups;
        let res_block = |c_in, c_out| ResBlock::new(c_in, c_out, time_dim, g, self.dropout, device);
        let attn_at = |res: usize, c| {
            self.attention_resolutions
                .contains(&res)
                .then(|| AttnBlock::new(c, g, device))
        };
        let resolutions = self.level_resolutions();
        let last = self.channel_mult.len() - 1;

        // Down path; remember the channels of every activation kept for a skip connection.
        let mut skip_channels = vec![ch];
        let mut current = ch;
        let mut down = Vec::new();
        for (level, &mult) in self.channel_mult.iter().enumerate() {
            let (mut blocks, mut attentions) = (Vec::new(), Vec::new());
            for _ in 0..self.num_res_blocks {
                blocks.push(res_block(current, ch * mult));
                current = ch * mult;
                attentions.push(attn_at(resolutions[level], current));
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

        let mid_block1 = res_block(current, current);
        let mid_attn = AttnBlock::new(current, g, device);
        let mid_block2 = res_block(current, current);

        // Up path, deepest level first; each block consumes one skip activation.
        let mut up = Vec::new();
        for (level, &mult) in self.channel_mult.iter().enumerate().rev() {
            let (mut blocks, mut attentions) = (Vec::new(), Vec::new());
            for _ in 0..=self.num_res_blocks {
                let skip = skip_channels.pop().expect("one skip per up block");
                blocks.push(res_block(current + skip, ch * mult));
                current = ch * mult;
                attentions.push(attn_at(resolutions[level], current));
            }
            let resample = (level != 0).then(|| conv(current, current, 3, 1, 1.0, device));
            up.push(Level {
                blocks,
                attentions,
                resample,
            });
        }

        UNet {
            time_dense1: dense(ch, time_dim, 1.0, device),
            time_dense2: dense(time_dim, time_dim, 1.0, device),
            conv_in: conv(self.in_channels, ch, 3, 1, 1.0, device),
            down,
            mid_block1,
            mid_attn,
            mid_block2,
            up,
            norm_out: GroupNormConfig::new(g, current).init(device),
            conv_out: conv(current, self.out_channels, 3, 1, ZERO_INIT_GAIN, device),
            embed_dim: ch,
        }
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
        // [batch, ch], in the input's dtype (bf16 under mixed precision).
        let temb = sinusoidal_embedding(t, self.embed_dim, &device).cast(x.dtype());
        let temb = self
            .time_dense2
            .forward(silu(self.time_dense1.forward(temb))); // [batch, 4ch]

        let mut h = self.conv_in.forward(x);
        let mut skips = vec![h.clone()];
        for level in &self.down {
            for (block, attention) in level.blocks.iter().zip(&level.attentions) {
                h = attend(attention, block.forward(h, temb.clone()));
                skips.push(h.clone());
            }
            if let Some(downsample) = &level.resample {
                h = downsample.forward(h);
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
                h = conv_after_upsample.forward(upsample_nearest(h));
            }
        }

        self.conv_out.forward(silu(self.norm_out.forward(h)))
    }
}
