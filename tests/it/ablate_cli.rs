//! `ddpm-exp ablate` end to end on tiny cells: summary rows, a diverged cell as a result,
//! skipping complete cells, resuming unfinished ones; and the refusals of `validate`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{assert_success, bin};

use ddpm_exp::record::RunFolder;
use ddpm_exp::record::eval_table::read_eval;
use ddpm_exp::record::meta::Status;

const BASE: &str = "\
seed: 0
data: {dataset: digits}
diffusion: {timesteps: 20}
model: {channels: 8, channel_mult: [1, 2], num_res_blocks: 1, attention_resolutions: [4], dropout: 0.0, norm_groups: 4}
train: {steps: 8, batch_size: 8, lr: 1.0e-3, warmup_steps: 2, log_every: 2, checkpoint_every: 4, ema_decay: 0.9}
sample: {count: 4}
eval: {nll_at_end: true, nll_images: 8, batch_size: 8}
";

fn write_cells(dir: &Path) -> Vec<PathBuf> {
    fs::write(dir.join("base.yaml"), BASE).unwrap();
    let learned = dir.join("eps_vlb_learned.yaml");
    fs::write(
        &learned,
        "extends: base.yaml\ndiffusion: {mean: eps, variance: learned, loss: vlb}\n",
    )
    .unwrap();
    // Adam with an enormous step and no clipping: the loss leaves the floats within steps.
    let diverging = dir.join("mu_mse.yaml");
    fs::write(&diverging, "extends: base.yaml\ndiffusion: {mean: mu, loss: simple}\ntrain: {lr: 1.0e+38, warmup_steps: 0, grad_clip: null}\n").unwrap();
    vec![learned, diverging]
}

fn ablate(specs: &[PathBuf], out: &Path) -> Output {
    bin()
        .arg("ablate")
        .args(specs)
        .args(["--seeds", "0,1", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn ablation_runs_every_cell_goes_past_divergence_and_skips_what_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let specs = write_cells(dir.path());
    let out = dir.path().join("results");
    let first = ablate(&specs, &out);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert_success(&first);
    assert!(stdout.lines().last().unwrap().ends_with("summary.md"));
    assert!(out.join("summary.md").is_file());

    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("| eps_") || l.starts_with("| mu_"))
        .collect();
    assert_eq!(rows.len(), 4, "{stdout}");
    for row in rows.iter().filter(|r| r.starts_with("| eps_vlb_learned")) {
        let cols: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(cols[3], "ok", "{row}");
        let nll: f64 = cols[5]
            .parse()
            .unwrap_or_else(|_| panic!("NLL is a number: {row}"));
        assert!(nll.is_finite() && nll > 0.0);
    }
    for row in rows.iter().filter(|r| r.starts_with("| mu_mse")) {
        let cols: Vec<&str> = row.split('|').map(str::trim).collect();
        assert!(cols[3].starts_with("diverged at step"), "{row}");
        assert_eq!(cols[5], "–", "a diverged cell has no NLL: {row}");
    }

    // It opens with Table 2: the paper's rows, mean ± std over the seeds, "–" when diverged.
    let paper_row = |cell: &str| -> Vec<String> {
        let line = stdout
            .lines()
            .find(|l| l.split('|').nth(2).is_some_and(|c| c.trim() == cell))
            .unwrap_or_else(|| panic!("no Table 2 row for {cell}: {stdout}"));
        line.trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect()
    };
    assert!(stdout.contains("## Table 2"), "{stdout}");
    let learned = paper_row("eps_vlb_learned");
    assert_eq!(learned[0], "L, learned diagonal Σ");
    assert_eq!(learned[2], "0, 1");
    assert!(
        learned[5].contains(" ± "),
        "NLL over two seeds: {learned:?}"
    );
    let mse = paper_row("mu_mse");
    assert_eq!(mse[0], "‖μ̃ − μ̃_θ‖²");
    assert_eq!(mse[5], "–");
    assert!(mse[7].contains("diverged"), "{mse:?}");

    // The NLL in the summary is the one recorded in the run's eval table.
    let run = fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("eps_vlb_learned_seed0")
        })
        .unwrap();
    let evals = read_eval(&run.join("eval.parquet")).unwrap();
    let nll = evals.iter().find(|r| r.name == "nll_bpd").unwrap().value;
    assert!(stdout.contains(&format!("| {nll:.3} |")), "{stdout}");
    assert_eq!(
        evals.iter().filter(|r| r.name == "vb").count(),
        20,
        "one bound term per t"
    );
    let terms: f64 = evals
        .iter()
        .filter(|r| r.name == "vb")
        .map(|r| r.value)
        .sum::<f64>()
        + evals.iter().find(|r| r.name == "prior_bpd").unwrap().value;
    assert!(
        (terms - nll).abs() < 1e-9 * nll.max(1.0),
        "the total is the sum of its terms"
    );

    let runs_before = fs::read_dir(&out).unwrap().count();
    let second = ablate(&specs, &out);
    assert!(second.status.success());
    assert_eq!(
        String::from_utf8_lossy(&second.stderr)
            .matches(": Skipped")
            .count(),
        4
    );
    assert_eq!(
        fs::read_dir(&out).unwrap().count(),
        runs_before,
        "nothing new was made"
    );

    // An unfinished cell is resumed, not restarted.
    let mut meta = RunFolder::at(&run).read_meta().unwrap();
    meta.status = Status::Interrupted;
    RunFolder::at(&run).write_meta(&meta).unwrap();
    let third = ablate(&specs, &out);
    assert!(String::from_utf8_lossy(&third.stderr).contains(": Resumed"));
    assert_eq!(RunFolder::at(&run).read_meta().unwrap().status, Status::Ok);
}

#[test]
fn validate_refuses_combinations_that_cannot_train() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("s.yaml");
    fs::write(&spec, "data: {dataset: digits}\nmodel: {attention_resolutions: [4], channel_mult: [1, 2]}\ndiffusion:\n  variance: learned\n  loss: simple\n").unwrap();
    let output = bin().arg("validate").arg(&spec).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("s.yaml:5:3") && stderr.contains("`simple` has no term for Σ"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_profile_is_bad_input_naming_the_known_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = bin()
        .current_dir(root)
        .args([
            "ablate",
            "--profile",
            "mnsit",
            "--out",
            "/nonexistent-never-created",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("did you mean `mnist`"));
}

#[test]
fn a_cell_is_found_in_a_run_whose_spec_an_earlier_version_spelled_differently() {
    use ddpm_exp::ablate::existing_run;
    use ddpm_exp::device::DeviceName;
    let dir = tempfile::tempdir().unwrap();
    let mut cell = ddpm_exp::spec::Experiment {
        name: "cell".into(),
        ..Default::default()
    };
    cell.device = DeviceName::Cuda(0);
    let folder = RunFolder::create(dir.path(), &cell.name, cell.seed).unwrap();
    // Earlier versions wrote the device as the user spelled it.
    let yaml = serde_yaml_ng::to_string(&cell).unwrap();
    assert!(yaml.contains("device: cuda:0"), "{yaml}");
    folder
        .write_spec(&yaml.replace("device: cuda:0", "device: cuda"))
        .unwrap();
    assert_eq!(existing_run(dir.path(), &cell), Some(folder));
    // Another cell is not found there.
    cell.train.steps += 1;
    assert_eq!(existing_run(dir.path(), &cell), None);
}
