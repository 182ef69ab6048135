//! What the command line lays over a spec, last of all: `--set key.path=value` lines, and the
//! flags that are each a shorthand for one key (`--seed`, `--device`, `--dtype`, `--batch`).

/// Overrides in the order they apply: the `--set` lines, then the shorthand flags (which win).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub set: Vec<String>,
    pub seed: Option<u64>,
    pub device: Option<String>,
    /// `train.precision`: fp32 or bf16.
    pub precision: Option<String>,
    pub batch_size: Option<usize>,
}

impl Overrides {
    /// Only `--set` lines.
    pub fn with_set(set: Vec<String>) -> Self {
        Self {
            set,
            ..Self::default()
        }
    }

    /// Every override as a `key.path=value` line, in the order they apply.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = self.set.clone();
        lines.extend(self.seed.map(|s| format!("seed={s}")));
        lines.extend(self.device.as_ref().map(|d| format!("device={d}")));
        lines.extend(
            self.precision
                .as_ref()
                .map(|p| format!("train.precision={p}")),
        );
        lines.extend(self.batch_size.map(|b| format!("train.batch_size={b}")));
        lines
    }
}

/// The `--set` that `--no-tensorboard` stands for.
pub const NO_TENSORBOARD: &str = "tracking.tensorboard=false";

/// `--set` values, with `--no-tensorboard`'s last.
pub fn with_tracking(set: &[String], no_tensorboard: bool) -> Vec<String> {
    let mut set = set.to_vec();
    if no_tensorboard {
        set.push(NO_TENSORBOARD.into());
    }
    set
}
