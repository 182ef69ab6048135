//! Timestep respacing (Nichol & Dhariwal 2021, §4): sampling on a subsequence s_1 < … < s_K of
//! 1..T with the betas recomputed from ᾱ on it, β'_k = 1 − ᾱ_{s_k} / ᾱ_{s_{k−1}} (ᾱ_{s_0} = 1),
//! so the shorter chain's marginals q(x_{s_k} | x_0) are exactly the full chain's. The network
//! is still asked at the original timestep s_k.

use super::schedule::DiffusionSchedule;

/// A schedule on kept timesteps: its step k (1..=K) is the original timestep `timesteps[k−1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Respaced {
    pub schedule: DiffusionSchedule,
    pub timesteps: Vec<usize>,
    /// The schedule the network was trained on.
    pub full: DiffusionSchedule,
}

impl Respaced {
    /// `steps` timesteps spread evenly over 1..=T, T always among them; `steps` ≥ T keeps all.
    pub fn evenly(full: &DiffusionSchedule, steps: usize) -> Self {
        Self::on(full, even_timesteps(full.timesteps(), steps))
    }

    /// The schedule on `timesteps` (increasing, each in 1..=T).
    pub fn on(full: &DiffusionSchedule, timesteps: Vec<usize>) -> Self {
        assert!(
            timesteps.windows(2).all(|w| w[0] < w[1]),
            "kept timesteps increase"
        );
        let mut previous = 0;
        let betas = timesteps
            .iter()
            .map(|&s| {
                // A step whose predecessor is kept keeps its own β exactly, so keeping every
                // step gives the full schedule bit for bit.
                let beta = if s == previous + 1 {
                    full.beta(s)
                } else {
                    let alpha_bar_before = if previous == 0 {
                        1.0
                    } else {
                        full.alpha_bar(previous)
                    };
                    1.0 - full.alpha_bar(s) / alpha_bar_before
                };
                previous = s;
                beta
            })
            .collect();
        Self {
            schedule: DiffusionSchedule::from_betas(betas),
            timesteps,
            full: full.clone(),
        }
    }

    pub fn steps(&self) -> usize {
        self.timesteps.len()
    }

    /// Whether every timestep is kept (the schedule is then the full one, bit for bit).
    pub fn keeps_all(&self) -> bool {
        self.steps() == self.full.timesteps()
    }

    /// The original timestep of step k (1..=K).
    pub fn original(&self, k: usize) -> usize {
        self.timesteps[k - 1]
    }
}

/// `steps` timesteps evenly spread over 1..=`t_max`, first 1 and last `t_max`: the steps
/// improved-diffusion's `space_timesteps` keeps (its index + 1), rounded half to even as
/// Python's `round`. One step is t = T here (their one step is t = 1, which starts the chain
/// at the wrong end).
pub fn even_timesteps(t_max: usize, steps: usize) -> Vec<usize> {
    let steps = steps.clamp(1, t_max);
    if steps == 1 {
        return vec![t_max];
    }
    // Positions by repeated addition, as `space_timesteps` forms them: i·stride rounds
    // differently at exact ties (499.5 there is 499.4999…).
    let stride = (t_max - 1) as f64 / (steps - 1) as f64;
    let mut position = 0.0f64;
    let mut kept = Vec::with_capacity(steps);
    for _ in 0..steps {
        kept.push(1 + position.round_ties_even() as usize);
        position += stride;
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diffusion::{ScheduleKind, ScheduleParams};

    fn linear(t: usize) -> DiffusionSchedule {
        let params = ScheduleParams {
            kind: ScheduleKind::Linear,
            beta_start: 1e-4,
            beta_end: 0.02,
            cosine_s: 0.008,
            max_beta: 0.999,
        };
        DiffusionSchedule::new(&params, t)
    }

    #[test]
    fn the_kept_steps_are_improved_diffusions() {
        // space_timesteps(1000, [21]): stride 999/20 = 49.95 added up; the tenth position is
        // 499.4999… (not 499.5), index 499, so t = 500.
        let kept = even_timesteps(1000, 21);
        assert_eq!(kept[10], 500);
        assert_eq!(&kept[..3], [1, 51, 101]);
        assert_eq!(kept[20], 1000);
        assert_eq!(even_timesteps(10, 4), [1, 4, 7, 10]);
    }

    #[test]
    fn keeping_every_step_is_the_full_schedule_bit_for_bit() {
        let full = linear(1000);
        let respaced = Respaced::evenly(&full, 1000);
        assert_eq!(respaced.timesteps, (1..=1000).collect::<Vec<_>>());
        assert_eq!(respaced.schedule, full);
    }

    #[test]
    fn a_respaced_chain_keeps_the_full_chains_marginals() {
        let full = linear(1000);
        let respaced = Respaced::evenly(&full, 10);
        assert_eq!(respaced.timesteps.first(), Some(&1));
        assert_eq!(respaced.timesteps.last(), Some(&1000));
        assert_eq!(respaced.steps(), 10);
        for k in 1..=10 {
            let s = respaced.original(k);
            let (ours, theirs) = (respaced.schedule.alpha_bar(k), full.alpha_bar(s));
            assert!(
                (ours - theirs).abs() < 1e-12 * theirs.max(1e-300),
                "k {k}: {ours} vs {theirs}"
            );
        }
    }

    #[test]
    fn even_timesteps_are_increasing_and_clamped() {
        assert_eq!(even_timesteps(1000, 1), [1000]);
        assert_eq!(even_timesteps(10, 4), [1, 4, 7, 10]);
        assert_eq!(even_timesteps(5, 50), [1, 2, 3, 4, 5]);
        let fifty = even_timesteps(1000, 50);
        assert_eq!(fifty.len(), 50);
        assert!(fifty.windows(2).all(|w| w[0] < w[1]));
    }
}
