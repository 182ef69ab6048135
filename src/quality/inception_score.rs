//! The Inception Score (Salimans et al. 2016): exp E_x KL(p(y|x) ‖ p(y)), computed on each of
//! `splits` equal parts of the samples and reported as mean ± standard deviation over the parts,
//! as the paper's Table 1 does (p(y) is the part's mean prediction).

use super::QualityError;

/// Class probabilities, one row of `classes` per image.
pub fn inception_score(
    probs: &[f64],
    classes: usize,
    splits: usize,
) -> Result<(f64, f64), QualityError> {
    let n = probs.len() / classes.max(1);
    if classes == 0 || probs.len() % classes != 0 {
        return Err(QualityError::Statistics(
            "class probabilities: ragged rows".into(),
        ));
    }
    if splits == 0 || n < splits {
        return Err(QualityError::Statistics(format!(
            "{n} images cannot make {splits} splits"
        )));
    }
    let per_split = n / splits;
    let scores: Vec<f64> = (0..splits)
        .map(|s| {
            let part = &probs[s * per_split * classes..(s + 1) * per_split * classes];
            split_score(part, classes)
        })
        .collect();
    let mean = scores.iter().sum::<f64>() / splits as f64;
    let var = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / splits as f64;
    Ok((mean, var.sqrt()))
}

fn split_score(part: &[f64], classes: usize) -> f64 {
    let n = part.len() / classes;
    let mut marginal = vec![0.0; classes];
    for row in part.chunks(classes) {
        for (m, p) in marginal.iter_mut().zip(row) {
            *m += p / n as f64;
        }
    }
    // 0 · log 0 = 0: a class an image gives no mass adds nothing to its KL.
    let kl: f64 = part
        .chunks(classes)
        .map(|row| {
            row.iter()
                .zip(&marginal)
                .filter(|(p, _)| **p > 0.0)
                .map(|(p, m)| p * (p.ln() - m.ln()))
                .sum::<f64>()
        })
        .sum();
    (kl / n as f64).exp()
}
