//! Sinusoidal timestep embedding (Transformer positional encoding, paper §4 / Appendix B).

use burn::prelude::*;

/// Embeds each timestep as [sin(t·f_0..f_{d/2−1}), cos(…)] with f_i = 10000^(−i/(d/2−1)),
/// computed on the CPU in f64 and moved to `device` as [batch, dim].
pub fn sinusoidal_embedding(timesteps: &[usize], dim: usize, device: &Device) -> Tensor<2> {
    let half = dim / 2;
    let scale = if half > 1 {
        (10000f64).ln() / (half as f64 - 1.0)
    } else {
        0.0
    };
    let mut data = Vec::with_capacity(timesteps.len() * dim);
    for &t in timesteps {
        let angles: Vec<f64> = (0..half)
            .map(|i| t as f64 * (-(i as f64) * scale).exp())
            .collect();
        data.extend(angles.iter().map(|a| a.sin() as f32));
        data.extend(angles.iter().map(|a| a.cos() as f32));
        // An odd dim gets one zero column, as the official code pads.
        data.extend(std::iter::repeat_n(0.0f32, dim - 2 * half));
    }
    Tensor::from_data(TensorData::new(data, [timesteps.len(), dim]), device)
}
