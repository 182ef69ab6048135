//! The lowest FID a run's samples reached during training, and the checkpoint that gave it:
//! the paper reports its scores "at the lowest FID seen in training" (DESIGN.md §2).

#[cfg(test)]
use super::eval_table::SAMPLES_SPLIT;
use super::eval_table::{EvalRow, sample_counts};

/// One network's best evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct BestFid {
    /// e.g. "digits-classifier".
    pub network: String,
    /// The checkpoint evaluated.
    pub step: u64,
    pub fid: f64,
}

/// Per network (in name order): the lowest FID of the sample rows in `split` (the evaluations
/// made during training, spec::Experiment::in_training_split) among those made with `images`
/// samples (FID is biased by the sample count, so only equal counts compare); the earliest
/// step wins a tie.
pub fn best_fids(rows: &[EvalRow], images: usize, split: &str) -> Vec<BestFid> {
    let mut best: Vec<BestFid> = Vec::new();
    // Each row with the sample count of its own evaluation: one checkpoint may hold several.
    let counted = rows.iter().zip(sample_counts(rows));
    let fids =
        counted.filter(|(r, n)| r.split == split && r.t.is_none() && *n == Some(images as u64));
    for (row, _) in fids {
        let Some(network) = row
            .name
            .strip_prefix("fid (")
            .and_then(|n| n.strip_suffix(')'))
        else {
            continue;
        };
        if !row.value.is_finite() {
            continue;
        }
        match best.iter_mut().find(|b| b.network == network) {
            Some(b) if (row.value, row.step) < (b.fid, b.step) => {
                b.step = row.step;
                b.fid = row.value;
            }
            Some(_) => {}
            None => best.push(BestFid {
                network: network.to_string(),
                step: row.step,
                fid: row.value,
            }),
        }
    }
    best.sort_by(|a, b| a.network.cmp(&b.network));
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: u64, split: &str, name: &str, value: f64) -> EvalRow {
        EvalRow {
            step,
            split: split.into(),
            name: name.into(),
            t: None,
            value,
        }
    }

    #[test]
    fn lowest_fid_at_the_asked_sample_count_per_network() {
        let net = "fid (digits-classifier)";
        let mut rows = Vec::new();
        for (step, fid, n) in [
            (100, 9.0, 64.0),
            (200, 4.0, 64.0),
            (300, 5.0, 64.0),
            (400, 1.0, 8.0),
        ] {
            rows.push(row(step, SAMPLES_SPLIT, net, fid));
            rows.push(row(step, SAMPLES_SPLIT, "quality_images", n));
        }
        // The same checkpoint scored by another network, and held-out images scoring lower.
        rows.push(row(100, SAMPLES_SPLIT, "fid (inception-v3)", 30.0));
        rows.push(row(200, "test vs train", net, 0.5));
        let best = best_fids(&rows, 64, SAMPLES_SPLIT);
        assert_eq!(
            best,
            vec![
                BestFid {
                    network: "digits-classifier".into(),
                    step: 200,
                    fid: 4.0
                },
                BestFid {
                    network: "inception-v3".into(),
                    step: 100,
                    fid: 30.0
                },
            ]
        );
        assert_eq!(best_fids(&rows, 8, SAMPLES_SPLIT)[0].step, 400);
        assert!(best_fids(&rows, 1000, SAMPLES_SPLIT).is_empty());
    }

    #[test]
    fn a_checkpoint_scored_twice_with_other_counts_keeps_each_fid_with_its_count() {
        let net = "fid (digits-classifier)";
        let mut rows = Vec::new();
        for (fid, n) in [(215.0, 40.0), (210.0, 30.0)] {
            rows.push(row(12, SAMPLES_SPLIT, "quality_images", n));
            rows.push(row(12, SAMPLES_SPLIT, net, fid));
        }
        assert_eq!(best_fids(&rows, 40, SAMPLES_SPLIT)[0].fid, 215.0);
        assert_eq!(best_fids(&rows, 30, SAMPLES_SPLIT)[0].fid, 210.0);
    }
}
