//! The UNet's building blocks: the residual block with its timestep projection, and the
//! single-head self-attention block (Appendix B; the official `resnet_block` / `attn_block`).

use burn::nn::conv::Conv2d;
use burn::nn::{Dropout, DropoutConfig, GroupNorm, GroupNormConfig, Linear};
use burn::prelude::*;

use super::kernels::{conv2d, dropout, group_norm, silu, softmax};

use super::layers::{ZERO_INIT_GAIN, conv, dense};

/// GN → swish → conv, plus the timestep projection, GN → swish → dropout → conv, and a
/// 1×1 shortcut when the channel count changes.
#[derive(Module, Debug)]
pub struct ResBlock {
    norm1: GroupNorm,
    conv1: Conv2d,
    time_proj: Linear,
    norm2: GroupNorm,
    dropout: Dropout,
    conv2: Conv2d,
    shortcut: Option<Conv2d>,
}

impl ResBlock {
    pub fn new(
        c_in: usize,
        c_out: usize,
        time_dim: usize,
        groups: usize,
        dropout: f64,
        device: &Device,
    ) -> Self {
        Self {
            norm1: GroupNormConfig::new(groups, c_in).init(device),
            conv1: conv(c_in, c_out, 3, 1, 1.0, device),
            time_proj: dense(time_dim, c_out, 1.0, device),
            norm2: GroupNormConfig::new(groups, c_out).init(device),
            dropout: DropoutConfig::new(dropout).init(),
            conv2: conv(c_out, c_out, 3, 1, ZERO_INIT_GAIN, device),
            shortcut: (c_in != c_out).then(|| conv(c_in, c_out, 1, 1, 1.0, device)),
        }
    }

    /// x: [batch, c_in, h, w], time: [batch or 1, time_dim] → [batch, c_out, h, w].
    pub fn forward(&self, x: Tensor<4>, time: Tensor<2>) -> Tensor<4> {
        let h = conv2d(&self.conv1, silu(group_norm(&self.norm1, x.clone())));
        let c = h.dims()[1];
        let rows = time.dims()[0];
        let t = self.time_proj.forward(silu(time)).reshape([rows, c, 1, 1]);
        let h = h + t;
        let h = silu(group_norm(&self.norm2, h));
        let h = conv2d(&self.conv2, dropout(&self.dropout, h));
        let skip = match &self.shortcut {
            Some(proj) => conv2d(proj, x),
            None => x,
        };
        skip + h
    }
}

/// Single-head self-attention over all positions, with a residual connection.
#[derive(Module, Debug)]
pub struct AttnBlock {
    norm: GroupNorm,
    query: Linear,
    key: Linear,
    value: Linear,
    proj_out: Linear,
}

impl AttnBlock {
    pub fn new(channels: usize, groups: usize, device: &Device) -> Self {
        Self {
            norm: GroupNormConfig::new(groups, channels).init(device),
            query: dense(channels, channels, 1.0, device),
            key: dense(channels, channels, 1.0, device),
            value: dense(channels, channels, 1.0, device),
            proj_out: dense(channels, channels, ZERO_INIT_GAIN, device),
        }
    }

    /// x: [batch, c, h, w] → [batch, c, h, w].
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let n = h * w;
        // Every position of every image as one row, [batch·h·w, c], so that each projection is
        // one 2-D matrix product, as torch's nn.Linear computes it. On [batch, h·w, c] Burn's
        // Linear multiplies by the weight broadcast over the batch, and its gradient is then a
        // product per image and a sum over them.
        let tokens = group_norm(&self.norm, x.clone())
            .reshape([b, c, n])
            .swap_dims(1, 2)
            .reshape([b * n, c]);
        let project = |linear: &Linear, rows: Tensor<2>| linear.forward(rows).reshape([b, n, c]);
        let q = project(&self.query, tokens.clone());
        let k = project(&self.key, tokens.clone());
        let v = project(&self.value, tokens);
        // [batch, h·w, h·w], scaled by 1/√c
        let weights = softmax(
            q.matmul(k.swap_dims(1, 2))
                .mul_scalar((c as f64).powf(-0.5)),
            2,
        );
        let attended = project(&self.proj_out, weights.matmul(v).reshape([b * n, c]));
        // [batch, c, h, w] as a view with channels-last strides.
        let attended = attended.swap_dims(1, 2).reshape([b, c, h, w]);
        residual_sum(x, attended)
    }
}

/// x + branch, laid out as x is. LibTorch adds in place into whichever operand it holds alone;
/// under autodiff x is kept for the backward pass, so the sum would be written into the
/// branch's channels-last view and carry that layout (and LibTorch's slower channels-last
/// kernels) through the rest of the network. Holding the branch once more for the addition
/// makes it a fresh tensor in x's layout, what torch's out-of-place `x + branch` gives.
fn residual_sum(x: Tensor<4>, branch: Tensor<4>) -> Tensor<4> {
    let held = branch.clone();
    let sum = x + branch;
    drop(held);
    sum
}
