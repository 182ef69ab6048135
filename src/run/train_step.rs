//! One optimisation step, and nothing else: batch → t and ε → q(x_t|x_0) (eq. 4) → loss →
//! backward → global-norm clipping → Adam with warm-up → EMA. It knows no files: the training
//! loop records what it returns, and `bench` times it directly.

use burn::optim::GradientsParams;
use burn::prelude::*;
use rand::Rng;

use super::noise_ahead::NoiseAhead;
use super::schedule_lr::warmup_lr;
use crate::diffusion::objective::LossTerms;
use crate::diffusion::timestep_sampler::TimestepDraw;
use crate::diffusion::{DiffusionSchedule, Objective, StepCoefficients, TimestepSampler};
use crate::model::{UNet, forward_at, kernels};
use crate::optim::{AdamSettings, FlatUpdate, Moments};
use crate::rng::{Stream, stream, stream_at};
use crate::spec::Experiment;

/// What a step updates: the model, the flat state behind it (its weights, their EMA and
/// Adam's moments), and the t sampler (whose `loss_aware` history learns from every step's
/// losses).
pub struct Networks {
    pub model: UNet,
    pub update: FlatUpdate,
    pub timesteps: TimestepSampler,
}

impl Networks {
    /// A freshly initialised model (weights drawn from the seed's init stream), its EMA (a
    /// copy) and no Adam moments yet, on an autodiff `device`.
    pub fn fresh(spec: &Experiment, device: &Device) -> Self {
        device.seed(stream(spec.seed, Stream::Init).next_u64());
        let model = spec.unet_config().init(device);
        Self::restored(spec, model.clone(), model.valid(), None)
    }

    /// The state of a checkpoint: `model` on an autodiff device, its `ema`, Adam's moments.
    pub fn restored(spec: &Experiment, model: UNet, ema: UNet, moments: Option<Moments>) -> Self {
        let update = FlatUpdate::new(&model, &ema, moments, adam_settings(spec));
        Self {
            model,
            update,
            timesteps: TimestepSampler::new(spec.train.timestep_sampler, spec.diffusion.timesteps),
        }
    }

    /// The EMA weights as a UNet (for sampling, evaluation and checkpoints).
    pub fn ema(&self) -> UNet {
        self.update.ema_module(&self.model)
    }
}

fn adam_settings(spec: &Experiment) -> AdamSettings {
    let t = &spec.train;
    AdamSettings {
        beta_1: t.adam_beta1 as f32,
        beta_2: t.adam_beta2 as f32,
        epsilon: t.adam_eps as f32,
    }
}

/// What one step measured. A step whose loss (or gradient norm) is not finite stops before
/// updating, so it has no gradient norm (or learning rate).
pub struct StepResult {
    pub loss: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: Option<f64>,
    pub lr: Option<f64>,
    /// Extra metrics of logging steps: the loss per quarter of 1..=T (improved-diffusion's
    /// q0–q3) and the loss's parts.
    pub logged: Vec<(String, f64)>,
}

impl StepResult {
    /// Whether the step diverged (and so changed nothing).
    pub fn diverged(&self) -> bool {
        !self.loss.is_finite() || self.grad_norm.is_none_or(|g| !g.is_finite())
    }
}

/// Everything a step needs that stays the same from step to step.
pub struct TrainStep<'a> {
    pub spec: &'a Experiment,
    pub schedule: &'a DiffusionSchedule,
    pub objective: Objective,
    /// An autodiff device.
    pub device: Device,
    /// ε for the step after this one, already being drawn.
    noise: NoiseAhead,
}

impl<'a> TrainStep<'a> {
    pub fn new(spec: &'a Experiment, schedule: &'a DiffusionSchedule, device: &Device) -> Self {
        Self {
            spec,
            schedule,
            objective: spec.objective(),
            device: device.clone().autodiff(),
            noise: NoiseAhead::new(spec.seed),
        }
    }

    /// One step at 0-based `step` on its batch `x0` (on [`Self::device`]); `logging` asks for the extra metrics. `phase` is told when
    /// each part of the step has been issued (bench's phase clock; a no-op in training).
    pub fn run(
        &self,
        nets: &mut Networks,
        x0: Tensor<4>,
        step: u64,
        logging: bool,
        phase: &mut dyn FnMut(&'static str),
    ) -> StepResult {
        let Diffused {
            x0,
            x_t,
            noise,
            coef,
            draw: TimestepDraw { ts, weights },
        } = self.diffuse(&nets.timesteps, x0, step);
        phase("batch, t, noise, q_sample");
        let t_max = self.schedule.timesteps();
        let out = forward_at(&nets.model, x_t.clone(), &ts, self.spec.train.precision);
        let terms = self
            .objective
            .loss_terms(out, x0, x_t, noise, &coef, &ts, self.schedule);
        let loss = weighted_mean(&terms.loss, weights.as_deref(), &self.device);
        let mut result = StepResult {
            loss: loss.clone().into_scalar::<f64>(),
            grad_norm: None,
            lr: None,
            logged: Vec::new(),
        };
        phase("forward, loss read back");
        if !result.loss.is_finite() {
            return result;
        }
        if weights.is_some() {
            nets.timesteps.record(&ts, &per_example(&terms.loss));
        }
        if logging {
            result.logged = logged_parts(&terms, &ts, t_max);
        }
        let grads = GradientsParams::from_grads(loss.backward(), &nets.model);
        phase("backward");
        let train = &self.spec.train;
        let clipped = nets.update.clip(&grads, train.grad_clip);
        phase("clipping (norm read back)");
        result.grad_norm = Some(clipped.norm);
        if !clipped.norm.is_finite() {
            return result;
        }
        let lr = warmup_lr(train.lr, train.warmup_steps, step + 1);
        nets.update.adam(clipped, lr);
        nets.model = nets.update.model(nets.model.clone());
        phase("adam");
        nets.update.ema_step(train.ema_decay);
        phase("ema");
        result.lr = Some(lr);
        result
    }

    /// For the step's batch x_0 [batch, c, h, w]: its t (from `timesteps`) and ε from the
    /// seed's streams at `step`, and x_t.
    fn diffuse(&self, timesteps: &TimestepSampler, x0: Tensor<4>, step: u64) -> Diffused {
        let seed = self.spec.seed;
        let t_max = self.schedule.timesteps();
        let shape = x0.dims();
        let draw = timesteps.draw(
            &mut stream_at(seed, Stream::Timestep, step),
            shape[0],
            t_max,
        );
        let noise = self.noise.take(step, shape.iter().product());
        let noise = Tensor::from_data(TensorData::new(noise, shape), &self.device);
        // Dropout masks: reseeded from our stream each step (kernels::seed_dropout).
        kernels::seed_dropout(
            &self.device,
            stream_at(seed, Stream::Dropout, step).next_u64(),
        );
        let coef = StepCoefficients::gather(self.schedule, &draw.ts, &self.device);
        let x_t = coef.q_sample(x0.clone(), noise.clone());
        Diffused {
            x0,
            x_t,
            noise,
            coef,
            draw,
        }
    }
}

/// One step's diffused batch: x_0, x_t = q_sample(x_0, ε) at the drawn t, and ε.
struct Diffused {
    x0: Tensor<4>,
    x_t: Tensor<4>,
    noise: Tensor<4>,
    coef: StepCoefficients,
    draw: TimestepDraw,
}

/// The batch's loss: the plain mean, or with importance-sampled t each example's loss times
/// its weight 1 / (T p_t).
fn weighted_mean(loss: &Tensor<1>, weights: Option<&[f64]>, device: &Device) -> Tensor<1> {
    match weights {
        None => loss.clone().mean(),
        Some(w) => {
            let w: Vec<f32> = w.iter().map(|&w| w as f32).collect();
            (loss.clone() * Tensor::<1>::from_floats(w.as_slice(), device)).mean()
        }
    }
}

/// A per-example loss tensor's values on the host.
fn per_example(loss: &Tensor<1>) -> Vec<f32> {
    loss.clone()
        .inner()
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap_or_default()
}

/// A logging step's extra metrics: the loss per quarter of 1..=T, and the two parts of a
/// hybrid loss (or the bound term of a `vlb` loss) in bits/dim.
fn logged_parts(terms: &LossTerms, ts: &[usize], t_max: usize) -> Vec<(String, f64)> {
    let values = per_example(&terms.loss);
    let mut logged = Vec::new();
    for (q, value) in loss_by_quarter(ts, &values, t_max).into_iter().enumerate() {
        if let Some(v) = value {
            logged.push((format!("loss_q{q}"), v));
        }
    }
    for (name, part) in [("mse", &terms.mse), ("vb", &terms.vb)] {
        if let Some(part) = part {
            logged.push((name.to_string(), part.clone().mean().into_scalar::<f64>()));
        }
    }
    logged
}

/// Mean of `losses` grouped by which quarter of 1..=`t_max` each example's t falls in.
pub fn loss_by_quarter(ts: &[usize], losses: &[f32], t_max: usize) -> [Option<f64>; 4] {
    let mut sums = [(0.0f64, 0usize); 4];
    for (&t, &l) in ts.iter().zip(losses) {
        let q = ((t - 1) * 4 / t_max).min(3);
        sums[q].0 += l as f64;
        sums[q].1 += 1;
    }
    sums.map(|(sum, n)| (n > 0).then(|| sum / n as f64))
}

#[cfg(test)]
mod tests {
    use super::loss_by_quarter;

    #[test]
    fn quarters_split_one_to_t_evenly() {
        // T = 8: t 1–2 → q0, 3–4 → q1, 5–6 → q2, 7–8 → q3.
        let q = loss_by_quarter(&[1, 2, 3, 8, 8], &[1.0, 3.0, 5.0, 7.0, 9.0], 8);
        assert_eq!(q, [Some(2.0), Some(5.0), None, Some(8.0)]);
    }
}
