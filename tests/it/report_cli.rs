//! `ddpm-exp report` end to end on a tiny trained run: the model figures (samples,
//! progressive generation, reconstructions, interpolations) exist as PNG and SVG, a second
//! report with the same seed draws the same pixels, and another seed draws other ones.

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::common::{assert_success, bin, last_line, train_tiny};

fn report(inputs: &[&Path], out: &Path, seed: &str) -> Output {
    let output = bin()
        .arg("report")
        .args(inputs)
        .args(["--samples", "4", "--seed", seed, "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert_success(&output);
    output
}

#[test]
fn report_draws_every_model_figure_deterministically() {
    let dir = tempfile::tempdir().unwrap();
    let run = train_tiny(dir.path());
    let run_id = run.file_name().unwrap().to_string_lossy().into_owned();
    let first = dir.path().join("report-a");
    let output = report(&[&run], &first, "0");
    assert_eq!(last_line(&output), first.join("index.html"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("| tiny | 0 | ok |"), "{stdout}");

    let figures = first.join("figures").join(&run_id);
    for stem in ["samples", "progressive", "reconstruction", "interpolation"] {
        let png = figures.join(format!("{stem}.png"));
        let img = image::open(&png).unwrap_or_else(|e| panic!("{stem}.png: {e}"));
        assert!(
            img.width() > 100 && img.height() > 40,
            "{stem}.png is too small"
        );
        let svg = fs::read_to_string(png.with_extension("svg")).unwrap();
        assert!(
            svg.contains("data:image/png;base64,"),
            "{stem}.svg embeds its pixels"
        );
    }
    let html = fs::read_to_string(first.join("index.html")).unwrap();
    assert!(html.contains(&format!("figures/{run_id}/progressive.png")));

    let same = dir.path().join("report-b");
    report(&[&run], &same, "0");
    let other = dir.path().join("report-c");
    report(&[&run], &other, "1");
    let read =
        |root: &Path, stem: &str| fs::read(root.join("figures").join(&run_id).join(stem)).unwrap();
    for stem in [
        "samples.png",
        "progressive.png",
        "reconstruction.png",
        "interpolation.png",
    ] {
        assert_eq!(
            read(&first, stem),
            read(&same, stem),
            "{stem} differs with the same seed"
        );
    }
    assert_ne!(
        read(&first, "samples.png"),
        read(&other, "samples.png"),
        "another seed, other samples"
    );
}

#[test]
fn report_of_a_folder_with_no_runs_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let output = bin()
        .arg("report")
        .arg(dir.path())
        .arg("--no-samples")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no readable run folder"), "{stderr}");
}

#[test]
fn a_curve_that_cannot_be_drawn_is_noted_once_under_its_title() {
    use ddpm_exp::record::metrics::{read_metrics, write_metrics};
    let dir = tempfile::tempdir().unwrap();
    let run = train_tiny(dir.path());
    // Every logged loss NaN: nothing finite to draw.
    let path = run.join("metrics.parquet");
    let mut rows = read_metrics(&path).unwrap();
    for row in rows.iter_mut().filter(|r| r.name == "loss") {
        row.value = f64::NAN;
    }
    write_metrics(&path, "tiny", &rows).unwrap();
    let out = dir.path().join("report");
    let output = bin()
        .arg("report")
        .arg(&run)
        .args(["--no-samples", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&output);
    let markdown = fs::read_to_string(out.join("report.md")).unwrap();
    let note = markdown
        .lines()
        .find(|l| l.starts_with("- Training loss"))
        .unwrap_or_else(|| panic!("no note for the loss curve: {markdown}"));
    assert_eq!(note.matches("Training loss").count(), 1, "{note}");
}
