//! Spec resolution: read a file and the chain of bases it `extends`, check each layer's keys
//! and types where the parser can still point at a line, merge (child over base, `--set` last),
//! then fill every default and check the values.

use std::path::{Path, PathBuf};

use serde_yaml_ng::{Mapping, Value};

use super::error::SpecError;
use super::layer_check::{nest, schema_problems, strip_position, without_problems, yaml_error};
use super::locate::locate_key;
use super::overrides::Overrides;
use super::schema::Experiment;
use super::suggest::improve_unknown_name;
use super::validate::check_values;

/// One source of values: a spec file or an override line.
#[derive(Debug, Clone)]
enum Source {
    File { path: PathBuf, text: String },
    Override(OverrideLine),
}

#[derive(Debug, Clone)]
struct Layer {
    source: Source,
    /// Its values, less any the schema refused (those are in `problems`).
    value: Value,
    problems: Vec<SpecError>,
}

/// A `key.path=value` laid over a spec, and what its errors name as their place: `--set …`,
/// `--sweep …`, or the sweep file's line.
#[derive(Debug, Clone, PartialEq)]
pub struct OverrideLine {
    pub raw: String,
    pub shown: String,
}

impl OverrideLine {
    /// A `--set` line.
    pub fn set(raw: &str) -> Self {
        Self {
            raw: raw.to_string(),
            shown: format!("--set {raw}"),
        }
    }
}

/// A fully resolved spec and where its values came from.
#[derive(Debug, Clone)]
pub struct ResolvedSpec {
    pub experiment: Experiment,
    /// The spec file the user named.
    pub path: PathBuf,
    /// Base files first, the named file last.
    pub files: Vec<PathBuf>,
}

/// The one way every command reads a user's spec: `path` and the bases it extends, then the
/// scale profile named `profile` (see [`find_profile`]; the same cell at another scale), then
/// the `key.path=value` overrides, into a checked [`Experiment`].
pub fn load(
    path: &Path,
    profile: Option<&str>,
    overrides: &Overrides,
) -> Result<ResolvedSpec, SpecError> {
    let lines: Vec<OverrideLine> = overrides
        .lines()
        .iter()
        .map(|l| OverrideLine::set(l))
        .collect();
    SpecTemplate::read(path, profile)?.resolve(&lines)
}

/// A spec's files read once (its chain of bases, then the profile's), to be resolved under
/// many sets of overrides: a sweep's cells.
#[derive(Debug, Clone)]
pub struct SpecTemplate {
    path: PathBuf,
    /// Base first.
    layers: Vec<Layer>,
}

impl SpecTemplate {
    pub fn read(path: &Path, profile: Option<&str>) -> Result<SpecTemplate, SpecError> {
        let profile = profile.map(|name| find_profile(path, name)).transpose()?;
        let mut layers = Vec::new();
        read_chain(path, &mut Vec::new(), &mut layers)?;
        layers.reverse(); // base first
        if let Some(profile) = profile {
            let mut profile_layers = Vec::new();
            read_chain(&profile, &mut Vec::new(), &mut profile_layers)?;
            profile_layers.reverse();
            layers.extend(profile_layers);
        }
        Ok(SpecTemplate {
            path: path.to_path_buf(),
            layers,
        })
    }

    /// The key and type problems of its files (each resolve reports them too).
    pub fn problems(&self) -> Vec<SpecError> {
        self.layers
            .iter()
            .flat_map(|l| l.problems.clone())
            .collect()
    }

    /// The spec file the user named.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The files with `overrides` laid over them, checked: every problem at once.
    pub fn resolve(&self, overrides: &[OverrideLine]) -> Result<ResolvedSpec, SpecError> {
        let mut layers = self.layers.clone();
        let (added, problems): (Vec<_>, Vec<_>) = overrides
            .iter()
            .map(override_layer)
            .partition(Result::is_ok);
        if let Some(e) = SpecError::all(problems.into_iter().filter_map(Result::err)) {
            return Err(e);
        }
        layers.extend(added.into_iter().filter_map(Result::ok));
        let schema = layers.iter().flat_map(|l| l.problems.iter().cloned());
        let schema: Vec<SpecError> = schema.collect();
        let experiment = experiment_of(&layers, &self.path)
            .map_err(|e| SpecError::all(schema.iter().cloned()).unwrap_or(e))?;
        let values = check_values(&experiment)
            .into_iter()
            .map(|(key, message)| error_at_key(&layers, &self.path, &key, message));
        if let Some(e) = SpecError::all(schema.into_iter().chain(values)) {
            return Err(e);
        }
        let files = self
            .layers
            .iter()
            .filter_map(|l| match &l.source {
                Source::File { path, .. } => Some(path.clone()),
                Source::Override(_) => None,
            })
            .collect();
        Ok(ResolvedSpec {
            experiment,
            path: self.path.clone(),
            files,
        })
    }
}

/// The layers merged, child over base, into an [`Experiment`] with its defaults filled.
fn experiment_of(layers: &[Layer], path: &Path) -> Result<Experiment, SpecError> {
    let mut merged = Value::Mapping(Mapping::new());
    for layer in layers {
        merge(&mut merged, &layer.value);
    }
    if let Value::Mapping(map) = &mut merged {
        map.remove("extends");
    }
    let mut experiment: Experiment = serde_yaml_ng::from_value(merged).map_err(|e| {
        SpecError::new(
            path.display().to_string(),
            None,
            improve_unknown_name(&e.to_string()),
        )
    })?;
    experiment.diffusion.weighting = experiment.diffusion.weighting.resolved();
    if experiment.name.is_empty() {
        experiment.name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    Ok(experiment)
}

/// Finds the profile `name`: a path to a YAML file, or `profiles/<name>.yaml` beside `spec`.
fn find_profile(spec: &Path, name: &str) -> Result<PathBuf, SpecError> {
    let direct = PathBuf::from(name);
    if direct.is_file() {
        return Ok(direct);
    }
    let dir = spec.parent().unwrap_or(Path::new(".")).join("profiles");
    let path = dir.join(format!("{name}.yaml"));
    if path.is_file() {
        return Ok(path);
    }
    let mut known: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.path()
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .collect();
    known.sort();
    let hint = match super::suggest::closest(name, known.iter().map(String::as_str)) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("known profiles: {}", known.join(", ")),
    };
    Err(SpecError::new(
        path.display().to_string(),
        Some("--profile".into()),
        format!("no profile `{name}`; {hint}"),
    ))
}

/// Loads an already resolved spec (a run's `spec.yaml`) without bases or overrides.
pub fn load_resolved(path: &Path) -> Result<Experiment, SpecError> {
    Ok(SpecTemplate::read(path, None)?.resolve(&[])?.experiment)
}

/// Reads `path` and, recursively, the bases it extends; child first in `out`.
fn read_chain(path: &Path, seen: &mut Vec<PathBuf>, out: &mut Vec<Layer>) -> Result<(), SpecError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| SpecError::new(&shown, None, format!("cannot read spec file: {e}")))?;
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if seen.contains(&canonical) {
        let chain: Vec<String> = seen.iter().map(|p| p.display().to_string()).collect();
        return Err(located(
            &shown,
            &text,
            "extends",
            &format!(
                "cycle of `extends`: {} → {}",
                chain.join(" → "),
                canonical.display()
            ),
        ));
    }
    seen.push(canonical);

    let (value, problems) = parse_layer(&shown, &text)?;
    let extends = value.get("extends").cloned();
    out.push(Layer {
        source: Source::File {
            path: path.to_path_buf(),
            text: text.clone(),
        },
        value,
        problems,
    });
    if let Some(base) = extends {
        let Some(base) = base.as_str() else {
            return Err(located(
                &shown,
                &text,
                "extends",
                "must be a path to a base spec",
            ));
        };
        let base_path = path.parent().unwrap_or(Path::new(".")).join(base);
        if !base_path.is_file() {
            return Err(located(
                &shown,
                &text,
                "extends",
                &format!("base spec {} does not exist", base_path.display()),
            ));
        }
        read_chain(&base_path, seen, out)?;
    }
    Ok(())
}

/// A spec file's YAML as a mapping, its keys and types checked against the schema now, while
/// the parser still knows line and column: the value less what the schema refused, and why.
/// Fails at once only if the text is no YAML mapping, or nothing in it is known to be sound.
fn parse_layer(shown: &str, text: &str) -> Result<(Value, Vec<SpecError>), SpecError> {
    let value: Value = serde_yaml_ng::from_str(text).map_err(|e| yaml_error(shown, text, &e))?;
    let value = match value {
        Value::Null => Value::Mapping(Mapping::new()),
        Value::Mapping(_) => value,
        _ => {
            return Err(SpecError::new(
                shown,
                None,
                "a spec must be a mapping of keys to values",
            ));
        }
    };
    let problems = schema_problems(shown, text, &value);
    if problems.is_empty() {
        return Ok((value, problems));
    }
    match without_problems(&value, &problems) {
        Some(sound) => Ok((sound, problems)),
        None => Err(SpecError::all(problems).expect("not empty")),
    }
}

/// Turns `a.b.c=value` into a layer; the value is read as YAML (so `[1, 2]` is a list).
fn override_layer(line: &OverrideLine) -> Result<Layer, SpecError> {
    let location = &line.shown;
    let Some((key, value_text)) = line.raw.split_once('=') else {
        return Err(SpecError::new(location, None, "expected KEY.PATH=VALUE"));
    };
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(SpecError::new(location, Some(key.into()), "empty key path"));
    }
    let value: Value = serde_yaml_ng::from_str(value_text).map_err(|e| {
        SpecError::new(
            location,
            Some(key.into()),
            format!("value is not valid YAML: {e}"),
        )
    })?;
    let parts: Vec<&str> = key.split('.').collect();
    let nested = nest(&parts, value);
    serde_yaml_ng::from_value::<Experiment>(nested.clone()).map_err(|e| {
        SpecError::new(
            location,
            Some(key.into()),
            improve_unknown_name(&strip_position(&e.to_string())),
        )
    })?;
    Ok(Layer {
        source: Source::Override(line.clone()),
        value: nested,
        problems: Vec::new(),
    })
}

/// Checks one override line on its own (a sweep's value, before its cells are made).
pub fn check_override(line: &OverrideLine) -> Result<(), SpecError> {
    override_layer(line).map(|_| ())
}

/// Deep merge: mappings merge key by key, anything else (scalars, lists) is replaced.
fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Mapping(base_map), Value::Mapping(over_map)) => {
            for (k, v) in over_map {
                match base_map.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        base_map.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (base, over) => *base = over.clone(),
    }
}

fn located(shown: &str, text: &str, key: &str, message: &str) -> SpecError {
    let parts: Vec<&str> = key.split('.').collect();
    let location = match locate_key(text, &parts) {
        Some((line, col)) => format!("{shown}:{line}:{col}"),
        None => shown.to_string(),
    };
    SpecError::new(location, Some(key.to_string()), message)
}

/// Points a value error at the last layer that set `key`.
fn error_at_key(layers: &[Layer], named: &Path, key: &str, message: String) -> SpecError {
    let parts: Vec<&str> = key.split('.').collect();
    let sets_key = |value: &Value| {
        let mut v = value;
        for p in &parts {
            match v.get(*p) {
                Some(next) => v = next,
                None => return false,
            }
        }
        true
    };
    match layers.iter().rev().find(|l| sets_key(&l.value)) {
        Some(Layer {
            source: Source::File { path, text },
            ..
        }) => located(&path.display().to_string(), text, key, &message),
        Some(Layer {
            source: Source::Override(line),
            ..
        }) => SpecError::new(&line.shown, Some(key.to_string()), message),
        // The default itself is at fault only if another value makes it invalid.
        None => SpecError::new(
            named.display().to_string(),
            Some(key.to_string()),
            format!("{message} (default value)"),
        ),
    }
}
