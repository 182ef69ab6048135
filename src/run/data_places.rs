//! `ddpm-exp data fetch | verify | list`: where each dataset is, whether its files are the
//! published ones, and fetching it ahead of a run (e.g. on a login node with network).

use std::path::{Path, PathBuf};

use super::data_export::dataset_named;
use crate::data::catalog::{self, Source};
use crate::data::locate::{self, Places};
use crate::data::verify::{FileState, FolderCheck, check_folder};
use crate::data::{DataError, DatasetName};
use crate::error::Failure;

/// `data fetch NAME [--dir D]`: the folder a spec's `data.dir` may name (the dataset is found
/// as a run would find it, or downloaded into D).
pub fn fetch(name: &str, dir: Option<&Path>) -> Result<PathBuf, Failure> {
    let dataset = downloadable(name)?;
    let places = Places::from_env();
    let found = match dir {
        Some(dir) => locate::fetch_into(dataset, dir, &places)?,
        None => locate::locate(dataset, &places)?,
    };
    let source = catalog::source(dataset).expect("downloadable");
    let check = check_folder(&source, &found)?;
    eprintln!(
        "{}: {} in {}",
        source.name,
        check.summary(),
        found.display()
    );
    Ok(found)
}

fn downloadable(name: &str) -> Result<DatasetName, Failure> {
    let dataset = dataset_named(name)?;
    let what = match dataset {
        DatasetName::Digits => "embedded in the binary",
        DatasetName::ImageFolder => "the images under a spec's data.dir",
        _ => return Ok(dataset),
    };
    Err(Failure::BadInput(format!(
        "{}: {what}; there is nothing to fetch or verify",
        dataset.name()
    )))
}

/// What `data verify` found: lines for stdout, and the problem that makes it fail.
pub struct VerifyReport {
    pub lines: Vec<String>,
    pub problem: Option<String>,
}

/// `data verify NAME|DIR`: every copy of NAME found, judged by the one a run would read (the
/// first usable); or DIR, as the dataset it matches best. It fails on a file with wrong bytes
/// or a missing one.
pub fn verify(what: &str) -> Result<VerifyReport, Failure> {
    let (checks, judged): (Vec<(DatasetName, FolderCheck)>, usize) = match DatasetName::named(what)
    {
        Some(dataset) => {
            let dataset = downloadable(dataset.name())?;
            let found = locate::survey(dataset, &Places::from_env())?;
            if found.is_empty() {
                return Err(not_found(dataset));
            }
            let judged = found.iter().position(|c| c.usable()).unwrap_or(0);
            (found.into_iter().map(|c| (dataset, c)).collect(), judged)
        }
        // Only the best match: a good MNIST folder is not also reported as a corrupt
        // Fashion-MNIST one.
        None => (
            checks_of_folder(Path::new(what))?
                .into_iter()
                .take(1)
                .collect(),
            0,
        ),
    };
    let lines: Vec<String> = checks
        .iter()
        .flat_map(|(d, c)| report_lines(*d, c))
        .collect();
    let (_, first) = &checks[judged];
    let problem = match first.first_mismatch() {
        Some(line) => Some(line),
        None if !first.usable() => Some(format!(
            "{}: incomplete: {} missing",
            first.dir.display(),
            missing_names(first).join(", ")
        )),
        None => None,
    };
    Ok(VerifyReport { lines, problem })
}

/// DIR checked as each downloadable dataset; those it holds files of, best match first.
fn checks_of_folder(dir: &Path) -> Result<Vec<(DatasetName, FolderCheck)>, Failure> {
    if !dir.is_dir() {
        let names: Vec<&str> = DatasetName::ALL.iter().map(|d| d.name()).collect();
        return Err(Failure::BadInput(format!(
            "{}: neither a dataset ({}) nor a folder",
            dir.display(),
            names.join(", ")
        )));
    }
    let mut found = Vec::new();
    for dataset in DatasetName::ALL {
        let Some(source) = catalog::source(dataset) else {
            continue;
        };
        let check = check_folder(&source, dir)?;
        if !check.absent() {
            found.push((dataset, check));
        }
    }
    if found.is_empty() {
        return Err(Failure::BadInput(format!(
            "{}: holds no file of mnist, fashion_mnist or cifar10 (IDX files, or CIFAR-10's \
             binary batches)",
            dir.display()
        )));
    }
    // MNIST and Fashion-MNIST share file names: the one more of whose digests match comes
    // first.
    found.sort_by_key(|(_, c)| (rank(c), std::cmp::Reverse(verified_count(c))));
    Ok(found)
}

fn rank(check: &FolderCheck) -> u8 {
    match check.summary() {
        "verified" => 0,
        "unverified" => 1,
        "incomplete" => 2,
        _ => 3,
    }
}

fn verified_count(check: &FolderCheck) -> usize {
    check
        .files
        .iter()
        .filter(|(_, s)| *s == FileState::Verified)
        .count()
}

fn missing_names(check: &FolderCheck) -> Vec<String> {
    check
        .files
        .iter()
        .filter(|(_, s)| matches!(s, FileState::Missing(_)))
        .map(|(n, _)| n.clone())
        .collect()
}

/// "NAME in DIR: summary", then a line for each file that is not verified.
fn report_lines(dataset: DatasetName, check: &FolderCheck) -> Vec<String> {
    let mut lines = vec![format!(
        "{} in {}: {}",
        dataset.name(),
        check.dir.display(),
        check.summary()
    )];
    for (name, state) in &check.files {
        match state {
            FileState::Verified => {}
            FileState::Unverified(why) => lines.push(format!("  {name}: unverified ({why})")),
            FileState::Missing(_) => lines.push(format!("  {name}: missing")),
            FileState::Mismatch {
                expected, found, ..
            } => lines.push(format!("  {name}: SHA-256 {found}, expected {expected}")),
        }
    }
    lines
}

fn not_found(dataset: DatasetName) -> Failure {
    let places = Places::from_env();
    let source: Source = catalog::source(dataset).expect("downloadable");
    let looked: Vec<String> = places
        .candidates(dataset, &source)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    Failure::BadInput(format!(
        "{}: no copy found (looked in {}); `ddpm-exp data fetch {}` downloads it",
        dataset.name(),
        looked.join(", "),
        dataset.name()
    ))
}

/// `data list`: the cache folder, then each dataset with its state and where it was found.
pub fn list() -> Result<Vec<String>, DataError> {
    let places = Places::from_env();
    let mut lines = vec![format!("cache: {}", places.cache.display())];
    lines.push(format!("{:<14} {:<11} where", "dataset", "state"));
    for dataset in DatasetName::ALL {
        match dataset {
            DatasetName::Digits => {
                lines.push(format!("{:<14} {:<11} in the binary", "digits", "embedded"));
                continue;
            }
            DatasetName::ImageFolder => continue,
            _ => {}
        }
        let found = locate::survey(dataset, &places)?;
        // The copy a run would read: the first usable one, as locate picks it.
        let best = found.iter().find(|c| c.usable()).or(found.first());
        lines.push(match best {
            Some(c) => format!(
                "{:<14} {:<11} {}",
                dataset.name(),
                c.summary(),
                c.dir.display()
            ),
            None => format!("{:<14} {:<11} –", dataset.name(), "absent"),
        });
    }
    Ok(lines)
}
