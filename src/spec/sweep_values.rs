//! A swept key's values as typed: `V1,V2,…` split on top-level commas only (so
//! `[1,2],[1,2,2]` is two lists), or one range — `geom(a,b,n)`, `linspace(a,b,n)`,
//! `range(start,stop[,step])` — and each value's canonical YAML flow text, which names cells.

use serde_yaml_ng::Value;

/// One value of an axis: as the user wrote it (the summary's column), and parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisValue {
    pub given: String,
    pub value: Value,
}

impl AxisValue {
    /// The value as flow YAML with one spelling per value: `[1, 2]`, `{kind: p2}`, `0.0001`.
    pub fn canonical(&self) -> String {
        flow_text(&self.value)
    }
}

/// The values of `text` (what follows `KEY=`), and whether they step geometrically (a
/// report draws those on a log axis).
pub fn parse_values(text: &str) -> Result<(Vec<AxisValue>, bool), String> {
    if let Some(range) = parse_range(text.trim())? {
        return Ok(range);
    }
    let mut values = Vec::new();
    for piece in split_top_level(text)? {
        let given = piece.trim();
        if given.is_empty() {
            return Err(format!("empty value in `{text}`"));
        }
        let value: Value = serde_yaml_ng::from_str(given)
            .map_err(|e| format!("`{given}` is not a YAML value: {e}"))?;
        values.push(AxisValue {
            given: given.to_string(),
            value,
        });
    }
    Ok((values, false))
}

/// `text` cut at commas outside brackets, braces and quotes.
fn split_top_level(text: &str) -> Result<Vec<&str>, String> {
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    let mut pieces = Vec::new();
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{' | '(') => depth += 1,
            (None, ']' | '}' | ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                pieces.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return Err(format!("unbalanced `{c}` in `{text}`"));
        }
    }
    if depth != 0 || quote.is_some() {
        return Err(format!("unclosed bracket or quote in `{text}`"));
    }
    pieces.push(&text[start..]);
    Ok(pieces)
}

/// `geom(…)`, `linspace(…)` or `range(…)` expanded; None when `text` is none of them.
pub fn parse_range(text: &str) -> Result<Option<(Vec<AxisValue>, bool)>, String> {
    let Some((function, rest)) = text.split_once('(') else {
        return Ok(None);
    };
    if !["geom", "linspace", "range"].contains(&function.trim()) {
        return Ok(None);
    }
    let Some(args) = rest.strip_suffix(')') else {
        return Err(format!(
            "`{text}`: expected {function}(…) with a closing `)`"
        ));
    };
    let numbers = args
        .split(',')
        .map(|a| a.trim().parse::<f64>())
        .collect::<Result<Vec<f64>, _>>()
        .map_err(|_| format!("`{text}`: the arguments must be numbers"))?;
    let values = match (function.trim(), numbers.as_slice()) {
        ("geom", &[a, b, n]) => geometric(a, b, count(n, text)?, text)?,
        ("linspace", &[a, b, n]) => linear(a, b, count(n, text)?),
        ("range", &[start, stop]) => integers(start, stop, 1.0, text)?,
        ("range", &[start, stop, step]) => integers(start, stop, step, text)?,
        (f, _) => return Err(format!("`{text}`: {f} takes {}", arity(f))),
    };
    let geometric_axis = function.trim() == "geom";
    let values = values
        .into_iter()
        .map(|x| number_value(x, text))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some((values, geometric_axis)))
}

fn arity(function: &str) -> &'static str {
    match function {
        "range" => "(start, stop) or (start, stop, step), integers, stop excluded",
        _ => "(first, last, count)",
    }
}

fn count(n: f64, text: &str) -> Result<usize, String> {
    match n.fract() == 0.0 && n >= 2.0 {
        true => Ok(n as usize),
        false => Err(format!(
            "`{text}`: the count must be an integer of at least 2"
        )),
    }
}

/// n values from a to b with a constant ratio, rounded to 6 significant digits so that
/// `geom(1e-4,1e-3,4)` gives 0.000215443, not 0.00021544346900318845.
fn geometric(a: f64, b: f64, n: usize, text: &str) -> Result<Vec<f64>, String> {
    if !(a > 0.0 && b > 0.0) {
        return Err(format!("`{text}`: geom needs two positive ends"));
    }
    let ratio = (b / a).powf(1.0 / (n - 1) as f64);
    Ok((0..n)
        .map(|i| significant(a * ratio.powi(i as i32)))
        .collect())
}

fn linear(a: f64, b: f64, n: usize) -> Vec<f64> {
    let step = (b - a) / (n - 1) as f64;
    (0..n).map(|i| significant(a + step * i as f64)).collect()
}

/// Python's range: start, start + step, … while short of stop.
fn integers(start: f64, stop: f64, step: f64, text: &str) -> Result<Vec<f64>, String> {
    if [start, stop, step].iter().any(|x| x.fract() != 0.0) || step == 0.0 {
        return Err(format!(
            "`{text}`: range takes integers and a non-zero step"
        ));
    }
    let n = ((stop - start) / step).ceil().max(0.0) as usize;
    if n == 0 {
        return Err(format!("`{text}`: the range is empty"));
    }
    Ok((0..n).map(|i| start + step * i as f64).collect())
}

fn significant(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 6 - 1 - x.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// A generated number as a value: an integer where it is one, else the shortest text that
/// reads back as the same f64.
fn number_value(x: f64, text: &str) -> Result<AxisValue, String> {
    let given = match x.fract() == 0.0 && x.abs() < 1e15 {
        true => format!("{}", x as i64),
        false => format!("{x}"),
    };
    let value = serde_yaml_ng::from_str(&given).map_err(|e| format!("`{text}`: {e}"))?;
    Ok(AxisValue { given, value })
}

/// `value` as one-line YAML flow text.
pub fn flow_text(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => match serde_yaml_ng::from_str::<Value>(s) {
            Ok(Value::String(back)) if &back == s && !s.contains([',', '[', ']', '{', '}']) => {
                s.clone()
            }
            _ => format!("{s:?}"), // would read back as another type, or breaks the flow
        },
        Value::Sequence(items) => {
            let items: Vec<String> = items.iter().map(flow_text).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Mapping(map) => {
            let pairs: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", flow_text(k), flow_text(v)))
                .collect();
            format!("{{{}}}", pairs.join(", "))
        }
        Value::Tagged(tagged) => format!("{} {}", tagged.tag, flow_text(&tagged.value)),
    }
}
