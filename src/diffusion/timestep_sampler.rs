//! Which t each training example gets. `uniform`: t ~ U{1..T}, as Algorithm 1 draws it.
//! `loss_aware`: Nichol & Dhariwal's importance sampling of the bound (§3.3, their
//! LossSecondMomentResampler): p_t ∝ √E[L_t²] over the last 10 losses seen at t, mixed with
//! 0.001 of uniform, and uniform until every t has its 10; each example's loss is weighted by
//! 1 / (T p_t), so the weighted mean still estimates the uniform mean. The history is part of
//! the training state (it goes into checkpoints), so a resumed run draws the same t.

use rand::RngExt;
use rand::distr::weighted::WeightedIndex;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Losses kept per t.
pub const HISTORY_PER_T: usize = 10;
/// Share of uniform probability mixed into the loss-aware distribution, so no t starves.
pub const UNIFORM_MIX: f64 = 0.001;

/// `train.timestep_sampler` in a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestepSamplerKind {
    #[default]
    Uniform,
    LossAware,
}

/// The last [`HISTORY_PER_T`] per-example losses seen at each t (index t − 1), oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossHistory {
    pub per_t: Vec<Vec<f64>>,
}

/// Timesteps for one batch and each example's loss weight (None: all 1, the uniform case).
pub struct TimestepDraw {
    pub ts: Vec<usize>,
    pub weights: Option<Vec<f64>>,
}

/// The sampler and, for `loss_aware`, its history.
#[derive(Debug, Clone, PartialEq)]
pub enum TimestepSampler {
    Uniform,
    LossAware(LossHistory),
}

impl TimestepSampler {
    /// A fresh sampler of `kind` for a chain of `t_max` steps.
    pub fn new(kind: TimestepSamplerKind, t_max: usize) -> Self {
        match kind {
            TimestepSamplerKind::Uniform => Self::Uniform,
            TimestepSamplerKind::LossAware => Self::LossAware(LossHistory {
                per_t: vec![Vec::new(); t_max],
            }),
        }
    }

    /// The sampler of `kind` as a checkpoint left it; the reason when its history is missing
    /// or is not one of `t_max` steps.
    pub fn restore(
        kind: TimestepSamplerKind,
        t_max: usize,
        history: Option<LossHistory>,
    ) -> Result<Self, String> {
        match (kind, history) {
            (TimestepSamplerKind::Uniform, _) => Ok(Self::Uniform),
            (TimestepSamplerKind::LossAware, Some(h)) if h.per_t.len() == t_max => {
                Ok(Self::LossAware(h))
            }
            (TimestepSamplerKind::LossAware, Some(h)) => Err(format!(
                "its loss history has {} timesteps, the spec {t_max}",
                h.per_t.len()
            )),
            (TimestepSamplerKind::LossAware, None) => {
                Err("it has no loss history for `train.timestep_sampler: loss_aware`".into())
            }
        }
    }

    /// `batch` timesteps in 1..=`t_max` from `rng`.
    pub fn draw(&self, rng: &mut ChaCha8Rng, batch: usize, t_max: usize) -> TimestepDraw {
        match self {
            // Draws exactly what Algorithm 1 always drew here, so uniform runs are unchanged.
            Self::Uniform => TimestepDraw {
                ts: (0..batch).map(|_| rng.random_range(1..=t_max)).collect(),
                weights: None,
            },
            Self::LossAware(history) => {
                let p = history.probabilities();
                let index = WeightedIndex::new(&p).expect("probabilities are positive");
                let ts: Vec<usize> = (0..batch).map(|_| 1 + rng.sample(&index)).collect();
                let weights = ts.iter().map(|&t| 1.0 / (p.len() as f64 * p[t - 1]));
                TimestepDraw {
                    weights: Some(weights.collect()),
                    ts,
                }
            }
        }
    }

    /// Tells the sampler the unweighted per-example losses of a step's timesteps.
    pub fn record(&mut self, ts: &[usize], losses: &[f32]) {
        if let Self::LossAware(history) = self {
            history.record(ts, losses);
        }
    }

    /// The history a checkpoint keeps (none for uniform).
    pub fn history(&self) -> Option<&LossHistory> {
        match self {
            Self::Uniform => None,
            Self::LossAware(history) => Some(history),
        }
    }
}

impl LossHistory {
    /// Whether every t has its full history (until then sampling stays uniform).
    pub fn warmed_up(&self) -> bool {
        self.per_t.iter().all(|h| h.len() == HISTORY_PER_T)
    }

    /// p_t for t = 1..=T: uniform before warm-up, then √E[L_t²] normalised and mixed with
    /// [`UNIFORM_MIX`] of uniform.
    pub fn probabilities(&self) -> Vec<f64> {
        let n = self.per_t.len() as f64;
        if !self.warmed_up() {
            return vec![1.0 / n; self.per_t.len()];
        }
        let rms: Vec<f64> = self
            .per_t
            .iter()
            .map(|h| (h.iter().map(|l| l * l).sum::<f64>() / h.len() as f64).sqrt())
            .collect();
        let total: f64 = rms.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return vec![1.0 / n; self.per_t.len()];
        }
        rms.iter()
            .map(|w| (1.0 - UNIFORM_MIX) * w / total + UNIFORM_MIX / n)
            .collect()
    }

    /// Appends each loss to its t's history, dropping the oldest once it holds
    /// [`HISTORY_PER_T`].
    pub fn record(&mut self, ts: &[usize], losses: &[f32]) {
        for (&t, &loss) in ts.iter().zip(losses) {
            let history = &mut self.per_t[t - 1];
            if history.len() == HISTORY_PER_T {
                history.remove(0);
            }
            history.push(f64::from(loss));
        }
    }
}
