//! The per-t schedule table of `ddpm-exp schedule`, as Parquet or CSV.

use std::io::Write;
use std::path::Path;

use super::atomic::write_atomic;
use super::error::RecordError;
use super::parquet::{Column, write_table};
use crate::diffusion::{DiffusionSchedule, Objective};

/// The table's columns, t = 1..=T first; `loss_weight` is the weight `objective`'s weighting
/// gives each t's MSE, in the space of what it predicts.
fn schedule_columns(s: &DiffusionSchedule, objective: &Objective) -> Vec<(&'static str, Vec<f64>)> {
    let ts = 1..=s.timesteps();
    vec![
        ("beta", s.beta.clone()),
        ("alpha", s.alpha.clone()),
        ("alpha_bar", s.alpha_bar.clone()),
        ("alpha_bar_prev", s.alpha_bar_prev.clone()),
        ("posterior_variance", s.posterior_variance.clone()),
        (
            "posterior_log_variance_clipped",
            s.posterior_log_variance_clipped.clone(),
        ),
        ("posterior_mean_coef1", s.posterior_mean_coef1.clone()),
        ("posterior_mean_coef2", s.posterior_mean_coef2.clone()),
        ("snr", ts.clone().map(|t| s.snr(t)).collect()),
        (
            "loss_weight",
            ts.map(|t| objective.loss_weight(s, t)).collect(),
        ),
    ]
}

/// Writes the table; `.csv` gives CSV, anything else Parquet.
pub fn write_schedule(
    path: &Path,
    s: &DiffusionSchedule,
    objective: &Objective,
) -> Result<(), RecordError> {
    let columns = schedule_columns(s, objective);
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if !is_csv {
        let t = ("t", Column::U64((1..=s.timesteps() as u64).collect()));
        let mut table = vec![t];
        table.extend(columns.into_iter().map(|(n, v)| (n, Column::F64(v))));
        return write_table(path, "schedule table", &table);
    }
    write_atomic(path, &csv_text(&columns, s.timesteps()))
        .map_err(|e| RecordError::unwritable(path, format!("cannot write schedule table: {e}")))
}

/// The columns as CSV, each number in its shortest form that reads back exactly.
fn csv_text(columns: &[(&str, Vec<f64>)], rows: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    writeln!(out, "t,{}", names.join(",")).expect("writes to memory");
    for i in 0..rows {
        write!(out, "{}", i + 1).expect("writes to memory");
        for (_, values) in columns {
            write!(out, ",{}", values[i]).expect("writes to memory");
        }
        out.push(b'\n');
    }
    out
}
