//! Where a dataset is found: the cache, the system's packaged copy, the old `./data` folders,
//! and only then a download into the cache. `data.dir` in a spec bypasses all of this.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::catalog::{self, Source};
use super::fetch::fetch_source;
use super::verify::{FolderCheck, check_folder};
use super::{DataError, DatasetName};

/// The cache folder's variable; without it, `ddpm-exp/data` in the user's cache directory.
pub const CACHE_VAR: &str = "DDPM_EXP_DATA";
/// Comma-separated base addresses tried instead of the published ones (a cluster's mirror).
pub const MIRRORS_VAR: &str = "DDPM_EXP_DATA_MIRRORS";

/// The places a dataset is looked for, and where a download goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Places {
    pub cache: PathBuf,
    pub mirrors: Option<Vec<String>>,
}

impl Places {
    /// From the environment ($DDPM_EXP_DATA, $DDPM_EXP_DATA_MIRRORS).
    pub fn from_env() -> Places {
        let cache = std::env::var_os(CACHE_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| dirs::cache_dir().map(|d| d.join("ddpm-exp").join("data")))
            .unwrap_or_else(|| PathBuf::from(".ddpm-exp-data"));
        let mirrors = std::env::var(MIRRORS_VAR).ok().map(|v| {
            v.split(',')
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty())
                .collect::<Vec<_>>()
        });
        Places {
            cache,
            mirrors: mirrors.filter(|m| !m.is_empty()),
        }
    }

    /// The dataset's own folder in the cache (what a download fills).
    pub fn cache_dir(&self, source: &Source) -> PathBuf {
        self.cache.join(&source.name)
    }

    /// Every folder its loader could read, in the order they are tried.
    pub fn candidates(&self, dataset: DatasetName, source: &Source) -> Vec<PathBuf> {
        let cached = self.cache_dir(source);
        let mut out = vec![match source.loader_subfolder() {
            Some(sub) => cached.join(sub),
            None => cached,
        }];
        out.extend(packaged_dirs(dataset));
        out
    }
}

/// Copies a system or an older ddpm-exp layout may hold: Debian's dataset-fashion-mnist, and
/// the `./data` folders MNIST and CIFAR-10 used to default to.
fn packaged_dirs(dataset: DatasetName) -> Vec<PathBuf> {
    let dirs: &[&str] = match dataset {
        DatasetName::Digits | DatasetName::ImageFolder => &[],
        DatasetName::Mnist => &["data/mnist"],
        DatasetName::FashionMnist => &["/usr/share/datasets/fashion-mnist"],
        DatasetName::Cifar10 => &["data/cifar-10-batches-bin"],
    };
    dirs.iter().map(PathBuf::from).collect()
}

/// Every candidate folder that holds any of the dataset's files, checked.
pub fn survey(dataset: DatasetName, places: &Places) -> Result<Vec<FolderCheck>, DataError> {
    let source = catalog::source(dataset).expect("only downloadable datasets are surveyed");
    let mut found = Vec::new();
    for dir in places.candidates(dataset, &source) {
        let check = check_folder(&source, &dir)?;
        if !check.absent() {
            found.push(check);
        }
    }
    Ok(found)
}

/// What this process already found (or failed to find) per dataset and places, so each
/// split's load neither hashes the set nor tries the network again.
type Outcome = Result<PathBuf, (String, String)>;
static FOUND: Mutex<Option<HashMap<(DatasetName, Lookup), Outcome>>> = Mutex::new(None);

/// How a dataset was asked for: a spec's `data.dir`, or found in `Places`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Lookup {
    Given(PathBuf),
    Found(Places),
}

/// The folder to read `dataset` from: the first usable local copy, or a fresh download.
pub fn locate(dataset: DatasetName, places: &Places) -> Result<PathBuf, DataError> {
    remembered((dataset, Lookup::Found(places.clone())), || {
        find_or_fetch(dataset, places)
    })
}

/// `data.dir` as given. A file in it with other bytes than the published ones is said on
/// stderr (once per process) and still used: the user chose the folder, and may have made a
/// subset or variant on purpose; the run records its images' digest either way.
pub fn check_given(dataset: DatasetName, dir: &Path) -> Result<PathBuf, DataError> {
    remembered((dataset, Lookup::Given(dir.to_path_buf())), || {
        let source = catalog::source(dataset).expect("only downloadable datasets are checked");
        if let Some(line) = check_folder(&source, dir)?.first_mismatch() {
            eprintln!("warning: data.dir: {line}; used as given");
        }
        Ok(dir.to_path_buf())
    })
}

fn remembered(
    key: (DatasetName, Lookup),
    find: impl FnOnce() -> Result<PathBuf, DataError>,
) -> Result<PathBuf, DataError> {
    if let Some(known) = FOUND.lock().unwrap().get_or_insert_default().get(&key) {
        return known
            .clone()
            .map_err(|(path, message)| DataError { path, message });
    }
    let outcome: Outcome = find().map_err(|e| (e.path, e.message));
    FOUND
        .lock()
        .unwrap()
        .get_or_insert_default()
        .insert(key, outcome.clone());
    outcome.map_err(|(path, message)| DataError { path, message })
}

fn find_or_fetch(dataset: DatasetName, places: &Places) -> Result<PathBuf, DataError> {
    let source = catalog::source(dataset).expect("only downloadable datasets are located");
    for check in survey(dataset, places)? {
        if check.usable() {
            return Ok(check.dir);
        }
        if let Some(line) = check.first_mismatch() {
            eprintln!("warning: {line}; that copy is not used");
        }
    }
    let into = places.cache_dir(&source);
    eprintln!(
        "{}: no local copy; downloading into {}",
        source.name,
        into.display()
    );
    fetch_source(&source, &into, places.mirrors.as_deref())
}

/// Where `data fetch --dir D` puts a dataset: D itself (its loader folder under it for an
/// archive).
pub fn fetch_into(dataset: DatasetName, dir: &Path, places: &Places) -> Result<PathBuf, DataError> {
    let source = catalog::source(dataset).expect("only downloadable datasets are fetched");
    fetch_source(&source, dir, places.mirrors.as_deref())
}
