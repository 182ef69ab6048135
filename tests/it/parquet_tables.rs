//! The run's Parquet tables: written and read back exactly, nulls and unsigned columns as other
//! readers expect them, and the files earlier versions wrote (through polars) still read.

use std::fmt::Write;
use std::fs;
use std::path::Path;

use ddpm_exp::record::eval_table::{EvalRow, merge_eval, read_eval};
use ddpm_exp::record::metrics::{MetricRow, read_metrics, write_metrics};
use parquet::basic::{Compression, LogicalType};
use parquet::file::reader::{FileReader, SerializedFileReader};

/// The rows as the fixture's rows.tsv lists them.
fn listing(metrics: &[MetricRow], eval: &[EvalRow]) -> String {
    let mut out = String::new();
    for r in metrics {
        writeln!(out, "m\t{}\t{}\t{}\t{:?}", r.step, r.split, r.name, r.value).unwrap();
    }
    for r in eval {
        let (step, split, name) = (r.step, &r.split, &r.name);
        writeln!(out, "e\t{step}\t{split}\t{name}\t{:?}\t{:?}", r.t, r.value).unwrap();
    }
    out
}

#[test]
fn tables_written_by_polars_in_earlier_versions_read_back_row_for_row() {
    // A tiny run's tables from ddpm-exp at 97d7f84 (polars 0.55, ZSTD); rows.tsv is what that
    // version's own reader gave for them.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/polars_0.55");
    let metrics = read_metrics(&dir.join("metrics.parquet")).unwrap();
    let eval = read_eval(&dir.join("eval.parquet")).unwrap();
    let expected = fs::read_to_string(dir.join("rows.tsv")).unwrap();
    assert_eq!(listing(&metrics, &eval), expected);
}

#[test]
fn metrics_and_eval_rows_round_trip_with_nulls_and_unsigned_steps() {
    let dir = tempfile::tempdir().unwrap();
    let metrics: Vec<MetricRow> = (0..300)
        .map(|i| MetricRow {
            step: u64::MAX - i,
            split: ["train", "test"][i as usize % 2].into(),
            name: format!("name_{}", i % 7),
            value: if i == 5 { f64::NAN } else { i as f64 / 3.0 },
        })
        .collect();
    let path = dir.path().join("metrics.parquet");
    write_metrics(&path, "run", &metrics).unwrap();
    let back = read_metrics(&path).unwrap();
    assert_eq!(back.len(), metrics.len());
    assert!(back[5].value.is_nan());
    assert_eq!(listing(&back, &[]), listing(&metrics, &[]));

    let eval_path = dir.path().join("eval.parquet");
    let row = |step, name: &str, t| EvalRow {
        step,
        split: "test".into(),
        name: name.into(),
        t,
        value: step as f64,
    };
    merge_eval(
        &eval_path,
        "run",
        &[row(4, "nll_bpd", None), row(4, "vb", Some(3))],
    )
    .unwrap();
    // The same step and name again replaces the old row.
    merge_eval(
        &eval_path,
        "run",
        &[row(4, "vb", Some(3)), row(8, "vb", None)],
    )
    .unwrap();
    let eval = read_eval(&eval_path).unwrap();
    let ts: Vec<(u64, &str, Option<u64>)> = eval
        .iter()
        .map(|r| (r.step, r.name.as_str(), r.t))
        .collect();
    assert_eq!(
        ts,
        [(4, "nll_bpd", None), (4, "vb", Some(3)), (8, "vb", None)]
    );

    // What pandas / pyarrow / polars see: `step` an unsigned 64-bit integer, ZSTD pages.
    let reader = SerializedFileReader::new(fs::File::open(&eval_path).unwrap()).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let step = schema
        .columns()
        .iter()
        .find(|c| c.name() == "step")
        .unwrap();
    assert_eq!(
        step.logical_type_ref(),
        Some(&LogicalType::integer(64, false))
    );
    let chunk = reader.metadata().row_group(0).column(0).compression();
    assert!(matches!(chunk, Compression::ZSTD(_)), "{chunk:?}");
}

#[test]
fn a_table_missing_a_column_is_refused_by_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("eval.parquet");
    // A metrics table where an eval table is expected: no `t` column.
    write_metrics(&path, "run", &[MetricRow::train(1, "loss", 0.5)]).unwrap();
    let error = read_eval(&path).unwrap_err().to_string();
    assert!(error.contains("eval.parquet"), "{error}");
    assert!(error.contains("no column `t`"), "{error}");
}

#[test]
fn an_empty_table_keeps_its_columns() {
    // A run stopped before its first logged step writes a metrics table of no rows.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.parquet");
    write_metrics(&path, "run", &[]).unwrap();
    assert_eq!(read_metrics(&path).unwrap(), []);
    // Its schema still says what it is: not an eval table.
    let error = read_eval(&path).unwrap_err().to_string();
    assert!(error.contains("no column `t`"), "{error}");
}

#[test]
fn quality_rows_of_another_sample_count_or_sampler_are_kept_and_a_repeat_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("eval.parquet");
    let evaluation = |split: &str, images: f64, fid: f64| {
        let row = |name: &str, value| EvalRow {
            step: 2000,
            split: split.into(),
            name: name.into(),
            t: None,
            value,
        };
        vec![row("quality_images", images), row("fid (net)", fid)]
    };
    let own = "samples vs train";
    let ddim = "samples vs train [ddim, 50 steps, η 0]";
    merge_eval(&path, "run", &evaluation(ddim, 128.0, 9.0)).unwrap(); // in training
    merge_eval(&path, "run", &evaluation(own, 128.0, 5.0)).unwrap(); // at the end
    merge_eval(&path, "run", &evaluation(own, 297.0, 3.0)).unwrap(); // eval --samples 297
    merge_eval(&path, "run", &evaluation(ddim, 297.0, 4.0)).unwrap(); // … --sampler ddim
    merge_eval(&path, "run", &evaluation(own, 297.0, 3.5)).unwrap(); // the same again
    let fids: Vec<(String, f64)> = read_eval(&path)
        .unwrap()
        .into_iter()
        .filter(|r| r.name == "fid (net)")
        .map(|r| (r.split, r.value))
        .collect();
    let want = [(ddim, 9.0), (own, 5.0), (ddim, 4.0), (own, 3.5)];
    let want: Vec<(String, f64)> = want.iter().map(|(s, v)| (s.to_string(), *v)).collect();
    assert_eq!(fids, want);
}
