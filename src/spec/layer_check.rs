//! Every key and type problem of one spec file, not only the first the parser meets: the whole
//! file is read against the schema (its first error carries the parser's own position), then
//! each subtree on its own, so the other mistakes are found too and pointed at by
//! [`locate_key`].

use serde_yaml_ng::{Mapping, Value};

use super::error::SpecError;
use super::locate::locate_key;
use super::schema::Experiment;
use super::suggest::improve_unknown_name;

/// The schema problems of the spec file `shown` (its `text`, parsed to `layer`), first the
/// parser's; empty when it reads as a (partial) [`Experiment`].
pub fn schema_problems(shown: &str, text: &str, layer: &Value) -> Vec<SpecError> {
    let Err(e) = serde_yaml_ng::from_str::<Experiment>(text) else {
        return Vec::new();
    };
    let first_line = e.location().map(|l| l.line());
    let first = yaml_error(shown, text, &e);
    // The parser's error names a wrong value's key, or an unknown key's parent and the key.
    let said_by_first = |path: &[String], line: usize| {
        let last = format!("`{}`", path.last().map_or("", String::as_str));
        Some(line) == first_line
            && (first.key.as_deref() == Some(path.join(".").as_str())
                || first.message.contains(&last))
    };
    let mut problems = vec![first.clone()];
    let mut others = Vec::new();
    if let Value::Mapping(map) = layer {
        subtree_problems(&mut Vec::new(), map, &mut others);
    }
    for (path, message) in others {
        let parts: Vec<&str> = path.iter().map(String::as_str).collect();
        let at = locate_key(text, &parts);
        let Some((line, col)) = at else { continue };
        if said_by_first(&path, line) {
            continue;
        }
        problems.push(SpecError::new(
            format!("{shown}:{line}:{col}"),
            Some(path.join(".")),
            message,
        ));
    }
    SpecError::all(problems).map_or_else(Vec::new, SpecError::into_problems)
}

/// (key path, problem) of each smallest subtree of `map` (under `path`) that the schema
/// refuses: an unknown key is reported at itself, a wrong value at its key.
fn subtree_problems(path: &mut Vec<String>, map: &Mapping, out: &mut Vec<(Vec<String>, String)>) {
    for (key, value) in map {
        let Some(key) = key.as_str() else { continue };
        path.push(key.to_string());
        if let Some(message) = refused(path, value) {
            let found_below = out.len();
            let unknown_here = message.contains(&format!("`{key}`"));
            if let (false, Value::Mapping(children)) = (unknown_here, value) {
                subtree_problems(path, children, out);
            }
            // A partial struct's "missing field" is no mistake in a layer that a base completes.
            if out.len() == found_below && !message.contains("missing field") {
                out.push((path.clone(), message));
            }
        }
        path.pop();
    }
}

/// Why the schema refuses `value` at `path` alone, if it does.
fn refused(path: &[String], value: &Value) -> Option<String> {
    let nested = nest(path, value.clone());
    let e = serde_yaml_ng::from_value::<Experiment>(nested).err()?;
    let text = strip_position(&e.to_string());
    // The parser may lead with the key path ("train.lr: invalid type …"); the caller has it.
    let message = match text.split_once(": ") {
        Some((k, m)) if !k.contains(' ') && !k.is_empty() => m.to_string(),
        _ => text,
    };
    Some(improve_unknown_name(&message))
}

/// `layer` without the keys `problems` name, so the rest can still be merged and its values
/// checked; None when a problem names no key (nothing is known to be sound).
pub fn without_problems(layer: &Value, problems: &[SpecError]) -> Option<Value> {
    let mut pruned = layer.clone();
    for problem in problems {
        let key = problem.key.as_ref()?;
        let parts: Vec<&str> = key.split('.').collect();
        let (last, parents) = parts.split_last()?;
        // A parent already removed for an earlier problem takes this key with it.
        let parent = parents
            .iter()
            .try_fold(&mut pruned, |at, part| at.get_mut(*part));
        if let Some(map) = parent.and_then(Value::as_mapping_mut) {
            map.remove(*last);
        }
    }
    serde_yaml_ng::from_value::<Experiment>(pruned.clone()).ok()?;
    Some(pruned)
}

/// `value` under the dotted `path`: ["train", "lr"] → {train: {lr: value}}.
pub fn nest(path: &[impl AsRef<str>], value: Value) -> Value {
    let mut nested = value;
    for part in path.iter().rev() {
        let mut map = Mapping::new();
        map.insert(Value::String(part.as_ref().to_string()), nested);
        nested = Value::Mapping(map);
    }
    nested
}

/// A parser error as a spec error at the parser's position, its key path lifted out.
pub fn yaml_error(shown: &str, source: &str, e: &serde_yaml_ng::Error) -> SpecError {
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
pub fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}
