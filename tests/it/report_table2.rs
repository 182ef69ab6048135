//! The report's main table as the paper prints Table 2: rows in the paper's order under its
//! group headings, IS / FID / NLL as mean ± std over seeds from the run's own sampler (scores
//! drawn with another sampler, in training or later, stay out of them), the lowest FID seen in
//! training, "–" and the step for a diverged cell, and the paper's figures beside ours.

use std::fs;
use std::path::Path;

use ddpm_exp::diffusion::{LossKind, MeanKind, SamplerKind, VarianceKind};
use ddpm_exp::record::RunFolder;
use ddpm_exp::record::eval_table::{EvalRow, SAMPLES_SPLIT, merge_eval};
use ddpm_exp::record::meta::{Meta, Status};
use ddpm_exp::report::{ReportOptions, make_report};
use ddpm_exp::spec::{Experiment, SamplerChoice};

const STEPS: u64 = 200;
const NET: &str = "digits-classifier";

/// A run's numbers: its end-of-run IS, FID (own sampler) and NLL, and its in-training FIDs
/// at steps 100 and 200 (another sampler).
struct Scores {
    is: f64,
    fid: f64,
    nll: f64,
    in_training: [f64; 2],
}

fn spec(name: &str, seed: u64, objective: (MeanKind, VarianceKind, LossKind)) -> Experiment {
    let mut spec = Experiment {
        name: name.into(),
        seed,
        ..Experiment::default()
    };
    (
        spec.diffusion.mean,
        spec.diffusion.variance,
        spec.diffusion.loss,
    ) = objective;
    spec.diffusion.timesteps = 50;
    spec.train.steps = STEPS;
    spec.train.checkpoint_every = 100;
    spec.eval.quality_samples = 128;
    spec.eval.quality_every = 100;
    spec.eval.quality_sampler = SamplerChoice {
        sampler: Some(SamplerKind::Ddim),
        steps: Some(10),
        eta: None,
        clip_x0: None,
    };
    spec
}

fn row(step: u64, split: &str, name: &str, value: f64) -> EvalRow {
    EvalRow {
        step,
        split: split.into(),
        name: name.into(),
        t: None,
        value,
    }
}

fn eval_rows(spec: &Experiment, s: &Scores) -> Vec<EvalRow> {
    let during = spec.in_training_split();
    let mut rows = vec![row(STEPS, "test", "nll_bpd", s.nll)];
    for (step, fid) in [100, STEPS].into_iter().zip(s.in_training) {
        rows.push(row(step, &during, &format!("fid ({NET})"), fid));
        rows.push(row(step, &during, &format!("is ({NET})"), 1.0));
        rows.push(row(step, &during, "quality_images", 128.0));
    }
    rows.push(row(STEPS, SAMPLES_SPLIT, &format!("fid ({NET})"), s.fid));
    rows.push(row(STEPS, SAMPLES_SPLIT, &format!("is ({NET})"), s.is));
    rows.push(row(STEPS, SAMPLES_SPLIT, "quality_images", 128.0));
    rows
}

fn write_run(results: &Path, spec: &Experiment, status: Status, scores: Option<Scores>) {
    let run_id = format!("{}_seed{}_20261201-000000", spec.name, spec.seed);
    let dir = results.join(&run_id);
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("spec.yaml"),
        serde_yaml_ng::to_string(spec).unwrap(),
    )
    .unwrap();
    let diverged = status == Status::Diverged;
    let meta = Meta {
        run_id: run_id.clone(),
        name: spec.name.clone(),
        spec_file: format!("experiments/{}.yaml", spec.name),
        status,
        seed: spec.seed,
        backend: "burn-flex".into(),
        device: "cpu".into(),
        crate_version: "0.1.0".into(),
        burn_version: "0.22.1".into(),
        git_sha: None,
        git_dirty: None,
        started_at: "2026-12-01T00:00:00Z".into(),
        ended_at: Some("2026-12-01T00:10:00Z".into()),
        steps_total: STEPS,
        steps_done: if diverged { 57 } else { STEPS },
        diverged_at_step: diverged.then_some(57),
        last_finite_loss: Some(0.1),
        error: None,
        train_seconds: 10.0,
        steps_per_second: Some(20.0),
        resumed_at_steps: Vec::new(),
        data_sha256: None,
        requeues: 0,
    };
    RunFolder::at(&dir).write_meta(&meta).unwrap();
    if let Some(s) = scores {
        let path = RunFolder::at(&dir).eval_path();
        merge_eval(&path, &run_id, &eval_rows(spec, &s)).unwrap();
    }
}

fn cells(results: &Path) {
    use {LossKind as L, MeanKind as M, VarianceKind as V};
    let eps_simple = (M::Eps, V::FixedLarge, L::Simple);
    for (seed, is, fid, nll, in_training) in [
        (0, 6.0, 3.0, 4.8, [9.0, 5.0]),
        (1, 7.0, 4.0, 5.0, [6.0, 8.0]),
    ] {
        let scores = Scores {
            is,
            fid,
            nll,
            in_training,
        };
        write_run(
            results,
            &spec("eps_simple", seed, eps_simple),
            Status::Ok,
            Some(scores),
        );
    }
    let learned = spec("mu_vlb_learned", 0, (M::Mu, V::Learned, L::Vlb));
    write_run(results, &learned, Status::Diverged, None);
    let fixed = spec("eps_vlb_fixed", 0, (M::Eps, V::FixedLarge, L::Vlb));
    let scores = Scores {
        is: 5.0,
        fid: 10.0,
        nll: 4.5,
        in_training: [12.0, 11.0],
    };
    write_run(results, &fixed, Status::Ok, Some(scores));
    let x0 = spec("x0_simple", 0, (M::X0, V::FixedLarge, L::Simple));
    let scores = Scores {
        is: 4.0,
        fid: 20.0,
        nll: 6.0,
        in_training: [21.0, 22.0],
    };
    write_run(results, &x0, Status::Ok, Some(scores));
}

/// The entries of the Markdown row whose second column is `cell`.
fn entries<'a>(table: &'a str, cell: &str) -> Vec<&'a str> {
    let line = table
        .lines()
        .find(|l| l.split('|').nth(2).is_some_and(|c| c.trim() == cell))
        .unwrap_or_else(|| panic!("no row for {cell} in\n{table}"));
    line.trim_matches('|').split('|').map(str::trim).collect()
}

fn line_of(table: &str, needle: &str) -> usize {
    table
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no `{needle}` in\n{table}"))
}

fn report(results: &Path, out: &Path) -> ddpm_exp::report::ReportOutcome {
    let options = ReportOptions {
        out: out.to_path_buf(),
        smoothing: 0.9,
        model_figures: None,
    };
    make_report(&[results.to_path_buf()], &options).unwrap()
}

#[test]
fn the_main_table_is_table_2_row_for_row_with_the_papers_figures_beside() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    cells(&results);
    let out = dir.path().join("report");
    report(&results, &out);
    let table = fs::read_to_string(out.join("table2.md")).unwrap();

    // The paper's order: μ̃ rows, then ε rows (learned, fixed, MSE), then cells it lacks.
    let order = [
        "**μ̃ prediction (baseline)**",
        "| mu_vlb_learned |",
        "**ε prediction (ours)**",
        "| eps_vlb_fixed |",
        "| eps_simple |",
        "**Other cells",
        "| x0_simple |",
    ];
    let lines: Vec<usize> = order.iter().map(|n| line_of(&table, n)).collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "{lines:?}\n{table}");

    // objective, cell, seeds, IS, FID, NLL, best FID, status, paper IS, FID, NLL.
    let eps = entries(&table, "eps_simple");
    assert_eq!(eps[0], "‖ε̃ − ε_θ‖² (L_simple)");
    assert_eq!(eps[2], "0, 1");
    // Own-sampler scores only: IS 6, 7; FID 3, 4 (the in-training 5 and 8 at the same step
    // stay out); std of two values a apart is a/√2.
    assert_eq!(eps[3], "6.50 ± 0.71");
    assert_eq!(eps[4], "3.50 ± 0.71");
    assert_eq!(eps[5], "4.900 ± 0.141");
    // Lowest in-training FID per seed: 5 and 6.
    assert_eq!(eps[6], "5.50 ± 0.71");
    assert_eq!(eps[7], "ok");
    assert_eq!(&eps[8..], ["9.46 ± 0.11", "3.17", "≤ 3.75"]);

    let mu = entries(&table, "mu_vlb_learned");
    assert_eq!(mu[0], "L, learned diagonal Σ");
    assert_eq!(&mu[3..6], ["–", "–", "–"], "a diverged cell has no numbers");
    assert_eq!(mu[7], "diverged at step 57");
    assert_eq!(&mu[8..], ["7.28 ± 0.10", "23.69", "–"]);
    assert_eq!(&entries(&table, "x0_simple")[8..], ["–", "–", "–"]);

    let tex = fs::read_to_string(out.join("table2.tex")).unwrap();
    assert!(
        tex.contains(r"\multicolumn{11}{l}{\textit{$\tilde\mu$ prediction (baseline)}}"),
        "{tex}"
    );
    assert!(
        tex.contains(r"$6.50 \pm 0.71$") && tex.contains(r"$\le 3.75$"),
        "{tex}"
    );
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("<th colspan=\"11\">μ̃ prediction (baseline)</th>"));
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(line_of(&report, "## Table 2") < line_of(&report, "## All columns"));
}

/// A sweep as `eval --quality --sampler ancestral,ddim --steps 10,40` records it at the final
/// checkpoint (FIDs given per sampler and steps), plus rows drawn with another sample count.
fn add_sweep(results: &Path, cell: &str, seed: u64, fids: [(SamplerKind, usize, f64); 4]) {
    let run_id = format!("{cell}_seed{seed}_20261201-000000");
    let dir = results.join(&run_id);
    let own = ddpm_exp::spec::load_resolved(&dir.join("spec.yaml")).unwrap();
    let mut rows = Vec::new();
    for (sampler, steps, fid) in fids {
        let choice = SamplerChoice {
            sampler: Some(sampler),
            steps: Some(steps),
            eta: None,
            clip_x0: None,
        };
        let sampling = own.with_sampler(&choice).unwrap();
        let split = own.samples_split(&sampling);
        rows.push(row(STEPS, &split, &format!("fid ({NET})"), fid));
        rows.push(row(STEPS, &split, "quality_images", 128.0));
        rows.push(row(STEPS, &split, "sampling_seconds", steps as f64 / 10.0));
    }
    // Scored with 16 samples: not comparable, so not drawn.
    rows.push(row(
        STEPS,
        "samples vs train [ddim, 20 steps, η 0]",
        &format!("fid ({NET})"),
        99.0,
    ));
    rows.push(row(
        STEPS,
        "samples vs train [ddim, 20 steps, η 0]",
        "quality_images",
        16.0,
    ));
    merge_eval(&RunFolder::at(&dir).eval_path(), &run_id, &rows).unwrap();
}

#[test]
fn fid_against_sampling_steps_is_drawn_from_the_recorded_sweeps() {
    use SamplerKind::{Ancestral, Ddim};
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    cells(&results);
    add_sweep(
        &results,
        "eps_simple",
        0,
        [
            (Ancestral, 10, 30.0),
            (Ancestral, 40, 6.0),
            (Ddim, 10, 9.0),
            (Ddim, 40, 5.0),
        ],
    );
    add_sweep(
        &results,
        "eps_simple",
        1,
        [
            (Ancestral, 10, 20.0),
            (Ancestral, 40, 4.0),
            (Ddim, 10, 7.0),
            (Ddim, 40, 3.0),
        ],
    );
    let out = dir.path().join("report");
    let outcome = report(&results, &out);
    // (These runs have no metrics: only the loss curves are missing.)
    let about_fid = |n: &&String| n.contains("FID");
    assert!(
        !outcome.notes.iter().any(|n| about_fid(&n)),
        "{:?}",
        outcome.notes
    );
    for ext in ["png", "svg"] {
        assert!(out.join(format!("figures/fid_steps.{ext}")).is_file());
    }
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let line = |sampler: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| eps_simple | {sampler} |")))
            .unwrap_or_else(|| panic!("no {sampler} row in\n{md}"))
            .to_string()
    };
    // Mean over the two seeds, with the seconds their rows give; the run's own sampler
    // (ancestral, all T = 50 steps: FIDs 3 and 4, no seconds recorded) joins its line. The
    // sweep's DDIM 10 steps is the in-training sampler too: written last, its rows count.
    let ancestral = line("ancestral");
    assert!(ancestral.contains("| 25.00 (1 s) |"), "{ancestral}");
    assert!(ancestral.contains("| 3.50 |"), "{ancestral}");
    assert!(ancestral.contains("| 5.00 (4 s) |"), "{ancestral}");
    let ddim = line("ddim, η 0");
    assert!(
        ddim.contains("| 8.00 (1 s) |") && ddim.contains("| 4.00 (4 s) |"),
        "{ddim}"
    );
    assert!(
        !md.contains("99.00"),
        "a 16-sample FID is not compared with 128-sample ones"
    );
}

#[test]
fn without_a_sweep_the_report_says_how_to_record_one() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    cells(&results);
    let outcome = report(&results, &dir.path().join("report"));
    assert!(
        outcome
            .notes
            .iter()
            .any(|n| n.contains("--steps 10,20,50,100,1000")),
        "{:?}",
        outcome.notes
    );
}
