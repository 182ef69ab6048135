//! `train_seconds.json`: the seconds spent in the training loop up to the newest checkpoint,
//! over every session, written after each checkpoint. meta.json is rewritten only when a
//! session ends, so a run killed after its last checkpoint (say while evaluating) would lose
//! them; the checkpoint itself must not hold them, as its bytes are compared across runs.

use serde::{Deserialize, Serialize};

use super::RunFolder;
use crate::record::RecordError;
use crate::record::atomic::write_atomic;

const TRAIN_SECONDS_FILE: &str = "train_seconds.json";

#[derive(Serialize, Deserialize)]
struct TrainClock {
    step: u64,
    seconds: f64,
}

impl RunFolder {
    pub fn write_train_seconds(&self, step: u64, seconds: f64) -> Result<(), RecordError> {
        let path = self.dir().join(TRAIN_SECONDS_FILE);
        let json = serde_json::to_string(&TrainClock { step, seconds }).expect("serialises");
        write_atomic(&path, json.as_bytes())
            .map_err(|e| RecordError::unwritable(&path, format!("cannot write: {e}")))
    }

    /// (step, seconds) as last written; None when absent or unreadable (it is only a count).
    pub fn read_train_seconds(&self) -> Option<(u64, f64)> {
        let text = std::fs::read(self.dir().join(TRAIN_SECONDS_FILE)).ok()?;
        let clock: TrainClock = serde_json::from_slice(&text).ok()?;
        Some((clock.step, clock.seconds))
    }
}
