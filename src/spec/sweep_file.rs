//! A sweep written down: a YAML file with `extends:` (the spec it sweeps) and a `sweep:` map of
//! key → values, optional `zip:` groups, `seeds:`, `set:` (overrides for every cell) and
//! `name:` (the cells' names start with it). `ablate FILE` runs it, `validate FILE` checks it.
//!
//! ```yaml
//! extends: ../eps_simple.yaml
//! sweep:
//!   diffusion.mean: [eps, x0, v]
//!   train.lr: geom(1e-4, 1e-3, 4)
//! zip:
//!   - {model.channels: [16, 32], model.dropout: [0.1, 0.2]}
//! seeds: [0, 1, 2]
//! ```

use std::path::{Path, PathBuf};

use serde_yaml_ng::{Mapping, Value};

use super::error::SpecError;
use super::layer_check::yaml_error;
use super::load::OverrideLine;
use super::locate::locate_key;
use super::suggest::closest;
use super::sweep::{Axis, Sweep};
use super::sweep_values::{AxisValue, flow_text, parse_range};

const KEYS: [&str; 6] = ["extends", "sweep", "zip", "seeds", "set", "name"];

#[derive(Debug, Clone, PartialEq)]
pub struct SweepFile {
    pub path: PathBuf,
    /// The spec swept, as a path from the working folder.
    pub extends: PathBuf,
    pub name: Option<String>,
    pub seeds: Option<Vec<u64>>,
    pub set: Vec<OverrideLine>,
    pub sweep: Sweep,
    /// What is wrong in the file (reported with the problems of its cells).
    pub problems: Vec<SpecError>,
}

/// Whether the YAML file at `path` is a sweep (has a top-level `sweep:` or `zip:`), not a spec.
pub fn is_sweep_file(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let Ok(Value::Mapping(map)) = serde_yaml_ng::from_str::<Value>(&text) else {
        return false;
    };
    map.contains_key("sweep") || map.contains_key("zip")
}

/// Where each problem is: `path:line:col` of a key path in the file's text.
struct Places<'a> {
    shown: String,
    text: &'a str,
}

impl Places<'_> {
    fn at(&self, parts: &[&str]) -> String {
        match locate_key(self.text, parts) {
            Some((line, col)) => format!("{}:{line}:{col}", self.shown),
            None => self.shown.clone(),
        }
    }

    fn error(&self, parts: &[&str], message: impl Into<String>) -> SpecError {
        SpecError::new(self.at(parts), Some(parts.join(".")), message)
    }
}

/// Reads the sweep file at `path`; fails only if it is no YAML mapping, and gathers every
/// other problem into [`SweepFile::problems`].
pub fn read_sweep_file(path: &Path) -> Result<SweepFile, SpecError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| SpecError::new(&shown, None, format!("cannot read sweep file: {e}")))?;
    let value: Value = serde_yaml_ng::from_str(&text).map_err(|e| yaml_error(&shown, &text, &e))?;
    let Value::Mapping(map) = value else {
        return Err(SpecError::new(
            &shown,
            None,
            "a sweep file must be a mapping",
        ));
    };
    let places = Places {
        shown: shown.clone(),
        text: &text,
    };
    let mut problems = Vec::new();
    for key in map.keys().filter_map(Value::as_str) {
        if !KEYS.contains(&key) {
            let hint = match closest(key, KEYS) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("a sweep file has only {}", KEYS.join(", ")),
            };
            problems.push(places.error(&[key], format!("unknown key `{key}`, {hint}")));
        }
    }
    let file = SweepFile {
        extends: extends(path, &map, &places)
            .map_err(|e| problems.push(e))
            .ok()
            .unwrap_or_default(),
        name: map.get("name").and_then(Value::as_str).map(str::to_string),
        seeds: seeds(&map, &places)
            .map_err(|e| problems.push(e))
            .ok()
            .flatten(),
        set: set_lines(&map, &places, &mut problems),
        sweep: Sweep {
            groups: groups(&map, &places, &mut problems),
        },
        path: path.to_path_buf(),
        problems: Vec::new(),
    };
    if map.get("name").is_some_and(|n| !n.is_string()) {
        problems.push(places.error(&["name"], "must be a string"));
    }
    Ok(SweepFile { problems, ..file })
}

fn extends(path: &Path, map: &Mapping, places: &Places) -> Result<PathBuf, SpecError> {
    let Some(base) = map.get("extends") else {
        let why = "a sweep file needs `extends: SPEC.yaml`, the spec it sweeps";
        return Err(SpecError::new(&places.shown, Some("extends".into()), why));
    };
    let Some(base) = base.as_str() else {
        return Err(places.error(&["extends"], "must be a path to a spec"));
    };
    let base_path = path.parent().unwrap_or(Path::new(".")).join(base);
    match base_path.is_file() {
        true => Ok(base_path),
        false => Err(places.error(
            &["extends"],
            format!("spec {} does not exist", base_path.display()),
        )),
    }
}

fn seeds(map: &Mapping, places: &Places) -> Result<Option<Vec<u64>>, SpecError> {
    let Some(seeds) = map.get("seeds") else {
        return Ok(None);
    };
    serde_yaml_ng::from_value::<Vec<u64>>(seeds.clone())
        .map(Some)
        .map_err(|_| places.error(&["seeds"], "must be a list of non-negative integers"))
}

/// `set:`'s dotted keys as override lines, each naming its line.
fn set_lines(map: &Mapping, places: &Places, problems: &mut Vec<SpecError>) -> Vec<OverrideLine> {
    let Some(set) = map.get("set") else {
        return Vec::new();
    };
    let Some(set) = set.as_mapping() else {
        problems.push(places.error(&["set"], "must map dotted keys to values"));
        return Vec::new();
    };
    set.iter()
        .filter_map(|(key, value)| {
            let key = key.as_str()?;
            Some(OverrideLine {
                raw: format!("{key}={}", flow_text(value)),
                shown: places.at(&["set", key]),
            })
        })
        .collect()
}

/// `sweep:`'s keys, each its own group, then each `zip:` entry as one group.
fn groups(map: &Mapping, places: &Places, problems: &mut Vec<SpecError>) -> Vec<Vec<Axis>> {
    let mut groups = Vec::new();
    match map.get("sweep").map(|s| (s, s.as_mapping())) {
        None => {}
        Some((_, Some(sweep))) => {
            for (key, values) in sweep {
                let key = key.as_str().unwrap_or_default();
                let parts = ["sweep", key];
                match axis(key, values, places.at(&parts)) {
                    Ok(axis) => groups.push(vec![axis]),
                    Err(why) => problems.push(places.error(&parts, why)),
                }
            }
        }
        Some(_) => problems.push(places.error(&["sweep"], "must map keys to lists of values")),
    }
    let zips = map.get("zip").map(|z| z.as_sequence());
    if let Some(None) = zips {
        problems.push(places.error(&["zip"], "must be a list of groups {key: [values], …}"));
    }
    for group in zips.flatten().into_iter().flatten() {
        let Some(group) = group.as_mapping() else {
            problems.push(places.error(&["zip"], "each group must map keys to lists of values"));
            continue;
        };
        let mut axes = Vec::new();
        for (key, values) in group {
            let key = key.as_str().unwrap_or_default();
            // locate_key does not look inside lists: the `zip:` line, then.
            match axis(key, values, places.at(&["zip"])) {
                Ok(axis) => axes.push(axis),
                Err(why) => {
                    problems.push(SpecError::new(places.at(&["zip"]), Some(key.into()), why))
                }
            }
        }
        groups.push(axes);
    }
    groups
}

/// One key's values: a YAML list, or a range as text (`geom(1e-4, 1e-3, 4)`).
fn axis(key: &str, values: &Value, shown: String) -> Result<Axis, String> {
    let (values, geometric) = match values {
        Value::Sequence(items) if !items.is_empty() => {
            let values = items
                .iter()
                .map(|v| AxisValue {
                    given: flow_text(v),
                    value: v.clone(),
                })
                .collect();
            (values, false)
        }
        Value::String(text) => parse_range(text)?.ok_or_else(|| {
            format!("`{text}`: expected a list of values or geom/linspace/range(…)")
        })?,
        _ => return Err("expected a non-empty list of values or geom/linspace/range(…)".into()),
    };
    Ok(Axis {
        key: key.to_string(),
        values,
        geometric,
        shown,
    })
}
