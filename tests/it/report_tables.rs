//! The report from run folders written here (no training): its table's numbers against
//! aggregates computed independently from the Parquet files, "–" for a diverged cell, a
//! broken folder named and left out, and every plot written as PNG and SVG.

use std::fs;
use std::path::{Path, PathBuf};

use ddpm_exp::record::RunFolder;
use ddpm_exp::record::eval_table::{EvalRow, merge_eval};
use ddpm_exp::record::meta::{Meta, Status};
use ddpm_exp::record::metrics::{MetricRow, write_metrics};
use ddpm_exp::report::{ReportOptions, make_report};
use ddpm_exp::spec::Experiment;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const STEPS: u64 = 200;

fn meta(run_id: &str, name: &str, seed: u64, status: Status, steps_done: u64) -> Meta {
    Meta {
        run_id: run_id.into(),
        name: name.into(),
        spec_file: format!("experiments/{name}.yaml"),
        status,
        seed,
        backend: "burn-flex".into(),
        device: "cpu".into(),
        crate_version: "0.1.0".into(),
        burn_version: "0.22.1".into(),
        git_sha: None,
        git_dirty: None,
        started_at: "2026-11-22T00:00:00Z".into(),
        ended_at: Some("2026-11-22T00:10:00Z".into()),
        steps_total: STEPS,
        steps_done,
        diverged_at_step: (status == Status::Diverged).then_some(steps_done),
        last_finite_loss: Some(0.1),
        error: None,
        train_seconds: 10.0,
        steps_per_second: Some(20.0),
        resumed_at_steps: Vec::new(),
        data_sha256: None,
        requeues: 0,
    }
}

/// Writes a run folder with a noisy decaying loss, lr, and (if given) a test NLL.
fn write_run(
    results: &Path,
    name: &str,
    seed: u64,
    status: Status,
    steps_done: u64,
    nll: Option<f64>,
) -> PathBuf {
    let run_id = format!("{name}_seed{seed}_20261122-000000");
    let dir = results.join(&run_id);
    fs::create_dir_all(&dir).unwrap();
    let mut spec = Experiment {
        name: name.into(),
        seed,
        ..Experiment::default()
    };
    spec.diffusion.timesteps = 50;
    spec.train.steps = STEPS;
    fs::write(
        dir.join("spec.yaml"),
        serde_yaml_ng::to_string(&spec).unwrap(),
    )
    .unwrap();
    RunFolder::at(&dir)
        .write_meta(&meta(&run_id, name, seed, status, steps_done))
        .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed * 31 + name.len() as u64);
    let mut rows = Vec::new();
    for step in (1..=steps_done).step_by(2) {
        let noise: f64 = rng.random::<f64>();
        let mut loss = 1.0 / (1.0 + step as f64 * 0.05) + 0.05 * noise;
        if status == Status::Diverged && step + 2 > steps_done {
            loss = f64::NAN;
        }
        rows.push(MetricRow::train(step, "loss", loss));
        rows.push(MetricRow::train(step, "lr", 1e-3));
    }
    write_metrics(&dir.join("metrics.parquet"), &run_id, &rows).unwrap();
    if let Some(nll) = nll {
        let mut eval = vec![
            EvalRow {
                step: steps_done,
                split: "test".into(),
                name: "nll_bpd".into(),
                t: None,
                value: nll,
            },
            EvalRow {
                step: steps_done,
                split: "test".into(),
                name: "prior_bpd".into(),
                t: None,
                value: 1e-5,
            },
        ];
        for t in 1..=50u64 {
            for (name, value) in [
                ("vb", 0.05 + 0.001 * t as f64),
                ("x0_mse", 0.002 * t as f64),
            ] {
                eval.push(EvalRow {
                    step: steps_done,
                    split: "test".into(),
                    name: name.into(),
                    t: Some(t),
                    value,
                });
            }
        }
        merge_eval(&RunFolder::at(&dir).eval_path(), &run_id, &eval).unwrap();
    }
    dir
}

/// The rows of a Parquet file as (column → value) maps, read with the `parquet` crate's own
/// row reader here, not through the harness's tables.
fn parquet_rows(path: &Path) -> Vec<Vec<(String, Field)>> {
    let reader = SerializedFileReader::new(fs::File::open(path).unwrap()).unwrap();
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| row.unwrap().into_columns())
        .collect()
}

fn field<'a>(row: &'a [(String, Field)], name: &str) -> &'a Field {
    &row.iter().find(|(n, _)| n == name).unwrap().1
}

/// Mean of the logged loss with step > 0.9·steps_done, read from the Parquet file here.
fn final_loss_from_parquet(run: &Path, steps_done: u64) -> f64 {
    let cut = (steps_done as f64 * 0.9).floor() as u64;
    let picked: Vec<f64> = parquet_rows(&run.join("metrics.parquet"))
        .iter()
        .filter(|row| {
            matches!(field(row, "name"), Field::Str(n) if n == "loss")
                && matches!(field(row, "step"), Field::ULong(s) if *s > cut)
        })
        .map(|row| match field(row, "value") {
            Field::Double(v) => *v,
            other => panic!("value {other}"),
        })
        .collect();
    picked.iter().sum::<f64>() / picked.len() as f64
}

fn nll_from_parquet(run: &Path) -> f64 {
    parquet_rows(&run.join("eval.parquet"))
        .iter()
        .find(|row| matches!(field(row, "name"), Field::Str(n) if n == "nll_bpd"))
        .map(|row| match field(row, "value") {
            Field::Double(v) => *v,
            other => panic!("value {other}"),
        })
        .unwrap()
}

fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// The cells of the Markdown row that starts with `| cell |`.
fn table_row(table: &str, cell: &str) -> Vec<String> {
    let line = table
        .lines()
        .find(|l| l.starts_with(&format!("| {cell} |")))
        .unwrap_or_else(|| panic!("no row for {cell} in\n{table}"));
    line.trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}

/// "0.1234 ± 0.0056" → (0.1234, Some(0.0056)).
fn parse_stat(text: &str) -> (f64, Option<f64>) {
    let mut parts = text.split('±').map(|p| p.trim().parse::<f64>().unwrap());
    (parts.next().unwrap(), parts.next())
}

struct Fixture {
    _tmp: tempfile::TempDir,
    results: PathBuf,
    eps_runs: Vec<PathBuf>,
    broken: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let eps_runs = vec![
        write_run(&results, "eps_simple", 0, Status::Ok, STEPS, Some(4.9)),
        write_run(&results, "eps_simple", 1, Status::Ok, STEPS, Some(4.7)),
        write_run(&results, "eps_simple", 2, Status::Ok, STEPS, Some(4.95)),
    ];
    write_run(&results, "mu_vlb_learned", 0, Status::Diverged, 57, None);
    // A folder whose metrics table was cut short (a disk that filled up mid-write).
    let broken = write_run(&results, "mu_mse", 0, Status::Ok, STEPS, None);
    let bytes = fs::read(broken.join("metrics.parquet")).unwrap();
    fs::write(broken.join("metrics.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    Fixture {
        _tmp: tmp,
        results,
        eps_runs,
        broken,
    }
}

fn report(f: &Fixture) -> (PathBuf, ddpm_exp::report::ReportOutcome) {
    let out = f.results.join("report");
    let outcome = make_report(
        std::slice::from_ref(&f.results),
        &ReportOptions {
            out: out.clone(),
            smoothing: 0.9,
            model_figures: None,
        },
    )
    .unwrap();
    (out, outcome)
}

#[test]
fn table_numbers_equal_independent_aggregates_of_the_parquet_files() {
    let f = fixture();
    let (out, outcome) = report(&f);
    assert_eq!(outcome.runs, 4, "three eps runs and the diverged one");
    let table = fs::read_to_string(out.join("table.md")).unwrap();
    let row = table_row(&table, "eps_simple");
    assert_eq!(row[1], "0, 1, 2");
    assert_eq!(row[2], "ok");

    let losses: Vec<f64> = f
        .eps_runs
        .iter()
        .map(|r| final_loss_from_parquet(r, STEPS))
        .collect();
    let (mean, std) = mean_std(&losses);
    let (shown_mean, shown_std) = parse_stat(&row[3]);
    assert!((shown_mean - mean).abs() <= 0.5e-4, "{} vs {mean}", row[3]);
    assert!(
        (shown_std.unwrap() - std).abs() <= 0.5e-4,
        "{} vs {std}",
        row[3]
    );

    let nlls: Vec<f64> = f.eps_runs.iter().map(|r| nll_from_parquet(r)).collect();
    let (mean, std) = mean_std(&nlls);
    let (shown_mean, shown_std) = parse_stat(&row[4]);
    assert!((shown_mean - mean).abs() <= 0.5e-3, "{} vs {mean}", row[4]);
    assert!(
        (shown_std.unwrap() - std).abs() <= 0.5e-3,
        "{} vs {std}",
        row[4]
    );

    let tex = fs::read_to_string(out.join("table.tex")).unwrap();
    assert!(tex.contains("\\toprule") && tex.contains("\\bottomrule"));
    assert!(
        tex.contains(&format!("${:.3} \\pm {:.3}$", mean, std)),
        "{tex}"
    );
    assert!(tex.contains("eps\\_simple"));
}

#[test]
fn a_diverged_cell_shows_a_dash_and_its_step_not_a_number() {
    let f = fixture();
    let (out, _) = report(&f);
    let table = fs::read_to_string(out.join("table.md")).unwrap();
    let row = table_row(&table, "mu_vlb_learned");
    assert_eq!(row[2], "diverged at step 57");
    assert_eq!(row[3], "–", "final loss of a diverged cell");
    assert_eq!(row[4], "–", "NLL of a diverged cell");
    let tex = fs::read_to_string(out.join("table.tex")).unwrap();
    let tex_row = tex
        .lines()
        .find(|l| l.starts_with("mu\\_vlb\\_learned"))
        .unwrap();
    assert!(
        tex_row.contains("diverged at step 57") && tex_row.matches("--").count() == 2,
        "{tex_row}"
    );
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("diverged at step 57"));
}

#[test]
fn a_broken_run_folder_is_named_and_the_others_still_reported() {
    let f = fixture();
    let (out, outcome) = report(&f);
    assert_eq!(outcome.broken.len(), 1);
    assert_eq!(outcome.broken[0].dir, f.broken);
    assert!(
        outcome.broken[0].reason.contains("metrics.parquet"),
        "{}",
        outcome.broken[0].reason
    );
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("Broken run folders") && md.contains("mu_mse_seed0"),
        "{md}"
    );
    let table = fs::read_to_string(out.join("table.md")).unwrap();
    assert!(
        !table.contains("| mu_mse |"),
        "the broken run is not in the table"
    );
    assert!(table.contains("| eps_simple |"));
}

#[test]
fn every_plot_is_written_as_png_and_svg_with_text_drawn() {
    let f = fixture();
    let (out, outcome) = report(&f);
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    for stem in ["loss", "lr", "schedule_0", "rate_distortion"] {
        let png = out.join("figures").join(format!("{stem}.png"));
        let img = image::open(&png).unwrap().to_rgb8();
        let dark = img.pixels().filter(|p| p.0.iter().all(|&c| c < 80)).count();
        assert!(
            dark > 500,
            "{stem}.png has almost no dark pixels (axes, text): {dark}"
        );
        let svg = fs::read_to_string(png.with_extension("svg")).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("<text"),
            "{stem}.svg"
        );
        assert!(
            html.contains(&format!("figures/{stem}.png")),
            "{stem} not on the page"
        );
    }
}

#[cfg(unix)]
#[test]
fn report_files_are_readable_by_others_like_any_created_file() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    let (out, _) = report(&f);
    for file in [
        "table.md",
        "index.html",
        "figures/loss.png",
        "figures/loss.svg",
    ] {
        let mode = fs::metadata(out.join(file)).unwrap().permissions().mode();
        assert_eq!(mode & 0o044, 0o044, "{file} has mode {mode:o}");
    }
}

#[test]
fn an_input_that_does_not_exist_is_bad_input() {
    let f = fixture();
    let missing = f.results.join("nope");
    let err = make_report(
        &[missing],
        &ReportOptions {
            out: f.results.join("report"),
            smoothing: 0.9,
            model_figures: None,
        },
    )
    .err()
    .expect("a missing folder is an error");
    assert!(err.to_string().contains("nope"), "{err}");
    assert_eq!(ddpm_exp::error::Failure::from(err).exit_code(), 2);
}
