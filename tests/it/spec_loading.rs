//! Spec resolution: extends, --set, defaults, and errors that point at file, line and key.

use std::fs;
use std::path::{Path, PathBuf};

use ddpm_exp::diffusion::MeanKind;
use ddpm_exp::spec::{Overrides, load};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn child_overrides_base_and_set_overrides_both() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "base.yaml",
        "seed: 3\ntrain:\n  steps: 100\n  lr: 0.5\nmodel:\n  channel_mult: [1, 2]\n",
    );
    let child = write(
        dir.path(),
        "child.yaml",
        "extends: base.yaml\ntrain:\n  lr: 0.25\ndiffusion:\n  mean: mu\n",
    );
    let overrides = Overrides::with_set(vec![
        "train.steps=7".into(),
        "model.channel_mult=[1, 1, 2]".into(),
    ]);
    let resolved = load(&child, None, &overrides).unwrap();
    let e = resolved.experiment;
    assert_eq!(e.seed, 3, "from the base");
    assert_eq!(e.train.lr, 0.25, "the child wins over the base");
    assert_eq!(e.train.steps, 7, "--set wins over both");
    assert_eq!(
        e.model.channel_mult,
        vec![1, 1, 2],
        "a list replaces, never merges"
    );
    assert_eq!(e.diffusion.mean, MeanKind::Mu);
    assert_eq!(e.train.batch_size, 128, "an unset key keeps its default");
    assert_eq!(e.name, "child", "the name defaults to the file stem");
    assert_eq!(
        e.extends, None,
        "the resolved spec no longer extends anything"
    );
    assert_eq!(resolved.files.len(), 2);
}

#[test]
fn unknown_key_names_file_line_and_suggests() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "s.yaml",
        "seed: 1\ntrain:\n  steps: 10\n  lrr: 0.1\n",
    );
    let err = load(&spec, None, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(&format!("{}:4:", spec.display())), "{err}");
    assert!(
        err.contains("`lrr`") && err.contains("did you mean `lr`"),
        "{err}"
    );
    assert!(!err.contains('\n'));
}

#[test]
fn wrong_type_names_the_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(dir.path(), "s.yaml", "train:\n  batch_size: many\n");
    let err = load(&spec, None, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(&format!("{}:2:", spec.display())), "{err}");
    assert!(err.contains("train.batch_size"), "{err}");
}

#[test]
fn bad_enum_value_suggests_the_close_one() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(dir.path(), "s.yaml", "diffusion:\n  schedule: linaer\n");
    let err = load(&spec, None, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean `linear`"), "{err}");
}

#[test]
fn out_of_range_value_points_at_the_line_that_set_it() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "base.yaml",
        "diffusion:\n  timesteps: 10\n  beta_end: 1.5\n",
    );
    let child = write(dir.path(), "child.yaml", "extends: base.yaml\nseed: 2\n");
    let err = load(&child, None, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("base.yaml:3:3"), "the base file set it: {err}");
    assert!(
        err.contains("diffusion.beta_end") && err.contains("(0, 1)"),
        "{err}"
    );
}

#[test]
fn set_errors_name_the_override() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(dir.path(), "s.yaml", "seed: 1\n");
    let err = load(
        &spec,
        None,
        &Overrides::with_set(vec!["train.stpes=3".into()]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("--set train.stpes=3"), "{err}");
    assert!(err.contains("did you mean `steps`"), "{err}");
    let err = load(
        &spec,
        None,
        &Overrides::with_set(vec!["train.steps=0".into()]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("--set train.steps=0") && err.contains("at least 1"),
        "{err}"
    );
    let err = load(&spec, None, &Overrides::with_set(vec!["noequals".into()]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("KEY.PATH=VALUE"), "{err}");
}

#[test]
fn missing_base_and_cycles_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(dir.path(), "s.yaml", "seed: 1\nextends: nowhere.yaml\n");
    let err = load(&spec, None, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("s.yaml:2:1")
            && err.contains("nowhere.yaml")
            && err.contains("does not exist"),
        "{err}"
    );

    write(dir.path(), "a.yaml", "extends: b.yaml\n");
    let b = write(dir.path(), "b.yaml", "extends: a.yaml\n");
    let err = load(&b, None, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("cycle"), "{err}");
}

#[test]
fn syntax_errors_give_a_position() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(dir.path(), "s.yaml", "train:\n  steps: [1, 2\n");
    let err = load(&spec, None, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(&format!("{}:", spec.display())), "{err}");
    assert!(
        err.split(':')
            .nth(1)
            .is_some_and(|l| l.parse::<usize>().is_ok()),
        "line number: {err}"
    );
}

#[test]
fn model_shape_problems_are_caught_before_running() {
    let dir = tempfile::tempdir().unwrap();
    // digits are 8×8: four halvings do not fit, and attention at 16 never occurs.
    let spec = write(
        dir.path(),
        "s.yaml",
        "data:\n  dataset: digits\nmodel:\n  channel_mult: [1, 1, 1, 1, 1]\n  attention_resolutions: [4]\n  norm_groups: 8\n  channels: 16\n",
    );
    let err = load(&spec, None, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("s.yaml:4:3") && err.contains("not divisible"),
        "{err}"
    );
    let spec = write(
        dir.path(),
        "t.yaml",
        "data:\n  dataset: digits\nmodel:\n  channel_mult: [1, 2]\n  attention_resolutions: [16]\n  norm_groups: 8\n  channels: 16\n",
    );
    let err = load(&spec, None, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("t.yaml:5:3") && err.contains("never occurs"),
        "{err}"
    );
}

#[test]
fn the_shipped_specs_validate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut validated = Vec::new();
    for entry in fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            load(&path, None, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
            validated.push(path.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    validated.sort();
    // The six Table 2 cells and their shared base, at least: an empty folder must not pass.
    for cell in [
        "base",
        "eps_simple",
        "eps_vlb_fixed",
        "eps_vlb_learned",
        "mu_mse",
        "mu_vlb_fixed",
        "mu_vlb_learned",
    ] {
        assert!(
            validated.iter().any(|v| v == cell),
            "{cell} missing from {validated:?}"
        );
    }
}

#[test]
fn the_cifar10_profile_lays_the_papers_setup_over_a_cell() {
    use burn::prelude::*;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let cell = root.join("mu_vlb_learned.yaml");
    // The dataset folder is not here; point it at one that exists to pass the check.
    let overrides = Overrides::with_set(vec!["data.dir=.".into()]);
    let e = load(&cell, Some("cifar10"), &overrides).unwrap().experiment;
    assert_eq!(e.name, "mu_vlb_learned", "the cell keeps its name");
    assert_eq!(
        (e.diffusion.mean, e.diffusion.loss),
        (MeanKind::Mu, ddpm_exp::diffusion::LossKind::Vlb)
    );
    assert_eq!(
        (
            e.train.steps,
            e.train.batch_size,
            e.train.lr,
            e.train.warmup_steps
        ),
        (800_000, 128, 2e-4, 5000)
    );
    assert_eq!(
        (
            e.train.grad_clip,
            e.train.ema_decay,
            e.model.dropout,
            e.data.random_flip
        ),
        (Some(1.0), 0.9999, 0.1, true)
    );
    // The paper's UNet, with twice the output channels for the learned Σ: the 3 extra output
    // maps of the last 3×3 conv from 128 channels add 3·(128·9 + 1) = 3459 parameters.
    let model = e.unet_config().init(&Device::flex());
    assert_eq!(model.num_params(), 35_746_307 + 3459);
}
