//! Spec resolution: read a file and the chain of bases it `extends`, check each layer's keys
//! and types where the parser can still point at a line, merge (child over base, `--set` last),
//! then fill every default and check the values.

use std::path::{Path, PathBuf};

use serde_yaml_ng::{Mapping, Value};

use super::error::SpecError;
use super::locate::locate_key;
use super::overrides::Overrides;
use super::schema::Experiment;
use super::suggest::improve_unknown_name;
use super::validate::check_values;

/// One source of values: a spec file or a `--set` override.
#[derive(Debug, Clone)]
enum Source {
    File { path: PathBuf, text: String },
    Override { raw: String },
}

#[derive(Debug, Clone)]
struct Layer {
    source: Source,
    value: Value,
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
    let profile = profile.map(|name| find_profile(path, name)).transpose()?;
    resolve(path, profile.as_deref(), &overrides.lines())
}

/// Layers `path`'s chain, the profile's chain and the overrides, base first, and checks them.
fn resolve(
    path: &Path,
    profile: Option<&Path>,
    overrides: &[String],
) -> Result<ResolvedSpec, SpecError> {
    let mut layers = Vec::new();
    read_chain(path, &mut Vec::new(), &mut layers)?;
    layers.reverse(); // base first
    if let Some(profile) = profile {
        let mut profile_layers = Vec::new();
        read_chain(profile, &mut Vec::new(), &mut profile_layers)?;
        profile_layers.reverse();
        layers.extend(profile_layers);
    }
    let files = layers
        .iter()
        .filter_map(|l| match &l.source {
            Source::File { path, .. } => Some(path.clone()),
            Source::Override { .. } => None,
        })
        .collect();
    for raw in overrides {
        layers.push(override_layer(raw)?);
    }

    let mut merged = Value::Mapping(Mapping::new());
    for layer in &layers {
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

    if let Some((key, message)) = check_values(&experiment).into_iter().next() {
        return Err(error_at_key(&layers, path, &key, message));
    }
    Ok(ResolvedSpec {
        experiment,
        path: path.to_path_buf(),
        files,
    })
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
    Ok(resolve(path, None, &[])?.experiment)
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

    let value = parse_layer(&shown, &text)?;
    let extends = value.get("extends").cloned();
    out.push(Layer {
        source: Source::File {
            path: path.to_path_buf(),
            text: text.clone(),
        },
        value,
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
/// the parser still knows line and column.
fn parse_layer(shown: &str, text: &str) -> Result<Value, SpecError> {
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
    serde_yaml_ng::from_str::<Experiment>(text).map_err(|e| yaml_error(shown, text, &e))?;
    Ok(value)
}

/// Turns `a.b.c=value` into a layer; the value is read as YAML (so `[1, 2]` is a list).
fn override_layer(raw: &str) -> Result<Layer, SpecError> {
    let location = format!("--set {raw}");
    let Some((key, value_text)) = raw.split_once('=') else {
        return Err(SpecError::new(location, None, "expected KEY.PATH=VALUE"));
    };
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(SpecError::new(location, Some(key.into()), "empty key path"));
    }
    let value: Value = serde_yaml_ng::from_str(value_text).map_err(|e| {
        SpecError::new(
            &location,
            Some(key.into()),
            format!("value is not valid YAML: {e}"),
        )
    })?;
    let mut nested = value;
    for part in key.split('.').rev() {
        let mut map = Mapping::new();
        map.insert(Value::String(part.to_string()), nested);
        nested = Value::Mapping(map);
    }
    serde_yaml_ng::from_value::<Experiment>(nested.clone()).map_err(|e| {
        SpecError::new(
            &location,
            Some(key.into()),
            improve_unknown_name(&strip_position(&e.to_string())),
        )
    })?;
    Ok(Layer {
        source: Source::Override {
            raw: raw.to_string(),
        },
        value: nested,
    })
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

fn yaml_error(shown: &str, source: &str, e: &serde_yaml_ng::Error) -> SpecError {
    let location = match e.location() {
        Some(loc) => format!("{shown}:{}:{}", loc.line(), loc.column()),
        None => shown.to_string(),
    };
    let mut text = strip_position(&e.to_string());
    // The parser's words for a tab in the indentation do not say "tab".
    let line_has_tab = e
        .location()
        .and_then(|loc| source.lines().nth(loc.line().saturating_sub(1)))
        .is_some_and(|line| line.contains('\t'));
    if line_has_tab && text.contains("cannot start any token") {
        text.push_str(" (a tab: YAML indents with spaces only)");
    }
    // serde_yaml_ng prefixes the key path ("train.lr: invalid type …"); lift it into `key`.
    let (key, message) = match text.split_once(": ") {
        Some((k, m)) if !k.contains(' ') && !k.is_empty() => (Some(k.to_string()), m.to_string()),
        _ => (None, text),
    };
    SpecError::new(location, key, improve_unknown_name(&message))
}

/// Drops the parser's " at line L column C" suffix: the location is reported up front.
fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
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
            source: Source::Override { raw },
            ..
        }) => SpecError::new(format!("--set {raw}"), Some(key.to_string()), message),
        // The default itself is at fault only if another value makes it invalid.
        None => SpecError::new(
            named.display().to_string(),
            Some(key.to_string()),
            format!("{message} (default value)"),
        ),
    }
}
