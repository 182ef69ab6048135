//! Every file in tests/bad_specs/ is a spec with one thing wrong. Its header says what the
//! error must contain (`# expect: TEXT`, one or more) and where it must point
//! (`# at: LINE:COL`, `# at: LINE:COL in OTHER_FILE`, or `# at: none`). `ddpm-exp run` must
//! give exactly that one error line, exit 2, not panic, and create no run folder.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{assert_success, bin};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_specs")
}

struct Case {
    file: String,
    expects: Vec<String>,
    /// The `file:line:col` the error must start with, if it has a position.
    at: Option<String>,
}

fn read_case(path: &Path) -> Case {
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = fs::read_to_string(path).unwrap();
    let header = |tag: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix(tag))
            .map(|v| v.trim().to_string())
            .collect()
    };
    let expects = header("# expect:");
    let at_lines = header("# at:");
    assert!(!expects.is_empty(), "{file}: no `# expect:` line");
    assert_eq!(at_lines.len(), 1, "{file}: needs exactly one `# at:` line");
    let at = match at_lines[0].as_str() {
        "none" => None,
        spec => Some(match spec.split_once(" in ") {
            Some((pos, other)) => format!("{other}:{pos}"),
            None => format!("{file}:{spec}"),
        }),
    };
    Case { file, expects, at }
}

fn cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths.iter().map(|p| read_case(p)).collect()
}

#[test]
fn the_corpus_has_at_least_thirty_bad_specs() {
    assert!(cases().len() >= 30, "only {} bad specs", cases().len());
}

#[test]
fn every_bad_spec_gives_its_one_error_exit_2_and_no_run_folder() {
    let out = tempfile::tempdir().unwrap();
    let results = out.path().join("results");
    let mut failures = Vec::new();
    for case in cases() {
        let output = bin()
            .current_dir(corpus_dir())
            .args(["run", &case.file, "--out"])
            .arg(&results)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        let mut wrong = Vec::new();
        if output.status.code() != Some(2) {
            wrong.push(format!("exit {:?}, not 2", output.status.code()));
        }
        if stderr.contains("panicked") {
            wrong.push("panicked".into());
        }
        if lines.len() != 1 || !lines[0].starts_with("error: ") {
            wrong.push(format!("not one `error:` line: {lines:?}"));
        }
        let message = lines.first().copied().unwrap_or_default();
        if let Some(at) = &case.at
            && !message.starts_with(&format!("error: {at}: "))
        {
            wrong.push(format!("does not start at {at}"));
        }
        if case.at.is_none() && !message.starts_with(&format!("error: {}: ", case.file)) {
            wrong.push("does not name the file".into());
        }
        for expect in &case.expects {
            if !message.contains(expect.as_str()) {
                wrong.push(format!("lacks {expect:?}"));
            }
        }
        if results.exists() && fs::read_dir(&results).unwrap().next().is_some() {
            wrong.push("left a run folder behind".into());
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{}: {} — got {message:?}",
                case.file,
                wrong.join("; ")
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn the_shared_base_of_the_corpus_is_itself_valid() {
    // Otherwise a corpus file could fail for the base's fault, not its own.
    let output = bin()
        .current_dir(corpus_dir())
        .args(["validate", "bases/tiny.yaml"])
        .output()
        .unwrap();
    assert_success(&output);
}
