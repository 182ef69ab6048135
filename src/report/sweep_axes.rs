//! What a set of runs swept, read back from their resolved specs alone: the spec keys whose
//! values differ between cells (the name and seed aside), less those that only follow another
//! (min_snr's default γ follows `weighting.kind`). So `report` draws a sweep's figures from its
//! run folders, whether `ablate --sweep`, a sweep file or hand-written specs made them.

use std::collections::BTreeMap;

use serde_yaml_ng::Value;

use super::collect::RunRecord;

/// Keys that differ between runs of one cell, or name it: never an axis.
const NOT_AN_AXIS: [&str; 2] = ["name", "seed"];

/// One swept key: its values in axis order, and how an axis shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct SweptKey {
    pub key: String,
    /// Distinct values as the resolved specs write them: numbers ascending, else first seen.
    pub values: Vec<String>,
    pub scale: AxisScale,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AxisScale {
    /// Numbers on a linear axis.
    Linear,
    /// Positive numbers in a geometric progression or spanning decades: a log axis.
    Log,
    /// Anything else: evenly spaced labelled points.
    Categorical,
}

/// The swept keys of a set of cells, and each cell's value of each key.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepAxes {
    pub keys: Vec<SweptKey>,
    /// Cell name → its values, in the order of `keys`.
    pub cells: BTreeMap<String, Vec<String>>,
}

impl SweepAxes {
    /// "mean=eps, kind=min_snr": a cell's values of the keys other than `except`, each
    /// named by its last path segment.
    pub fn label(&self, cell: &str, except: Option<usize>) -> String {
        let Some(values) = self.cells.get(cell) else {
            return cell.to_string();
        };
        let parts: Vec<String> = self
            .keys
            .iter()
            .zip(values)
            .enumerate()
            .filter(|(i, _)| Some(*i) != except)
            .map(|(_, (k, v))| format!("{}={v}", short_key(&k.key)))
            .collect();
        parts.join(", ")
    }
}

/// The last segment of a dotted key: "diffusion.weighting.kind" → "kind".
pub fn short_key(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

/// The axes of `runs`, or None when fewer than two cells or nothing differs between them.
pub fn sweep_axes(runs: &[RunRecord]) -> Option<SweepAxes> {
    let specs = cell_leaves(runs)?;
    let leaves_of = || specs.iter().map(|(_, leaves)| leaves);
    let first = leaves_of().next()?;
    let mut varying: Vec<String> = Vec::new();
    for key in leaves_of().flat_map(|leaves| leaves.keys()) {
        let differs = leaves_of().any(|l| l.get(key) != first.get(key));
        if differs && !NOT_AN_AXIS.contains(&key.as_str()) && !varying.contains(key) {
            varying.push(key.clone());
        }
    }
    let column = |key: &String| -> Vec<String> {
        leaves_of()
            .map(|l| l.get(key).cloned().unwrap_or_else(|| "null".into()))
            .collect()
    };
    let columns: Vec<Vec<String>> = varying.iter().map(column).collect();
    // Of keys that determine each other, the one a cell's name spells out ("kind=p2") is the
    // one the user swept.
    let named = |key: &String| {
        specs
            .iter()
            .any(|(cell, _)| cell.contains(&format!("{key}=")))
    };
    let rank: Vec<(bool, usize)> = varying
        .iter()
        .enumerate()
        .map(|(i, k)| (!named(k), i))
        .collect();
    let kept: Vec<usize> = (0..varying.len())
        .filter(|&b| !follows_another(b, &columns, &rank))
        .collect();
    if kept.is_empty() {
        return None;
    }
    let keys = kept
        .iter()
        .map(|&i| swept_key(&varying[i], &columns[i]))
        .collect();
    let cells = specs
        .iter()
        .enumerate()
        .map(|(c, (name, _))| {
            (
                name.clone(),
                kept.iter().map(|&i| columns[i][c].clone()).collect(),
            )
        })
        .collect();
    Some(SweepAxes { keys, cells })
}

/// Each cell's resolved spec as dotted leaves, cells in the order their first runs started
/// (so values keep the sweep's order).
fn cell_leaves(runs: &[RunRecord]) -> Option<Vec<(String, BTreeMap<String, String>)>> {
    let mut by_start: Vec<&RunRecord> = runs.iter().collect();
    by_start.sort_by(|a, b| a.meta.started_at.cmp(&b.meta.started_at));
    let mut specs: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    for run in by_start {
        if !specs.iter().any(|(cell, _)| cell == run.cell()) {
            let value = serde_yaml_ng::to_value(&run.spec).ok()?;
            let mut leaves = BTreeMap::new();
            flatten("", &value, &mut leaves);
            specs.push((run.cell().to_string(), leaves));
        }
    }
    Some(specs)
}

/// Leaves of a YAML tree by dotted path; a list is one leaf, written inline ("[1, 2, 2]").
fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Mapping(map) => {
            for (k, v) in map {
                let k = k.as_str().map(str::to_string).unwrap_or_else(|| inline(k));
                let path = if prefix.is_empty() {
                    k
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&path, v, out);
            }
        }
        leaf => {
            out.insert(prefix.to_string(), inline(leaf));
        }
    }
}

fn inline(value: &Value) -> String {
    match value {
        Value::Sequence(items) => {
            let parts: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => serde_yaml_ng::to_string(other)
            .map(|s| s.trim_end().to_string())
            .unwrap_or_default(),
    }
}

/// Whether column `b`'s value is a function of another column's that is not in turn a
/// function of `b`'s (when two determine each other, the one of lower rank is kept).
fn follows_another(b: usize, columns: &[Vec<String>], rank: &[(bool, usize)]) -> bool {
    (0..columns.len()).any(|a| {
        a != b
            && determines(&columns[a], &columns[b])
            && (!determines(&columns[b], &columns[a]) || rank[a] < rank[b])
    })
}

/// Whether equal values in `a` always come with equal values in `b`.
fn determines(a: &[String], b: &[String]) -> bool {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    a.iter()
        .zip(b)
        .all(|(x, y)| *seen.entry(x.as_str()).or_insert(y.as_str()) == y.as_str())
}

fn swept_key(key: &str, column: &[String]) -> SweptKey {
    let mut values: Vec<String> = Vec::new();
    for v in column {
        if !values.contains(v) {
            values.push(v.clone());
        }
    }
    let numbers: Option<Vec<f64>> = values.iter().map(|v| v.parse::<f64>().ok()).collect();
    let scale = match numbers {
        Some(mut numbers) => {
            let mut order: Vec<usize> = (0..values.len()).collect();
            order.sort_by(|&i, &j| numbers[i].total_cmp(&numbers[j]));
            values = order.iter().map(|&i| values[i].clone()).collect();
            numbers.sort_by(f64::total_cmp);
            numeric_scale(&numbers)
        }
        None => AxisScale::Categorical,
    };
    SweptKey {
        key: key.to_string(),
        values,
        scale,
    }
}

/// Log for positive values spanning more than a decade, or three or more in a geometric (not
/// arithmetic) progression; linear otherwise.
fn numeric_scale(sorted: &[f64]) -> AxisScale {
    let (lo, hi) = (sorted[0], sorted[sorted.len() - 1]);
    if lo <= 0.0 {
        return AxisScale::Linear;
    }
    let evenly = |steps: Vec<f64>| {
        steps
            .iter()
            .all(|s| (s - steps[0]).abs() <= 1e-6 * steps[0].abs())
    };
    let ratios = sorted.windows(2).map(|w| w[1] / w[0]).collect();
    let gaps = sorted.windows(2).map(|w| w[1] - w[0]).collect();
    let geometric = sorted.len() >= 3 && evenly(ratios) && !evenly(gaps);
    match geometric || hi / lo > 10.0 {
        true => AxisScale::Log,
        false => AxisScale::Linear,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn learning_rates_a_decade_apart_or_doubling_get_a_log_axis() {
        assert_eq!(numeric_scale(&[1e-4, 1e-3]), AxisScale::Linear);
        assert_eq!(numeric_scale(&[1e-4, 2e-3]), AxisScale::Log);
        assert_eq!(numeric_scale(&[1e-4, 2e-4, 4e-4]), AxisScale::Log);
        assert_eq!(numeric_scale(&[1.0, 2.0, 3.0]), AxisScale::Linear);
        assert_eq!(numeric_scale(&[0.0, 10.0, 100.0]), AxisScale::Linear);
    }

    #[test]
    fn numbers_sort_ascending_and_words_keep_their_order() {
        let lr = swept_key("train.lr", &column(&["0.004", "0.001", "0.004"]));
        assert_eq!(lr.values, ["0.001", "0.004"]);
        let kind = swept_key("kind", &column(&["p2", "uniform", "p2"]));
        assert_eq!(
            (kind.values, kind.scale),
            (column(&["p2", "uniform"]), AxisScale::Categorical)
        );
    }

    #[test]
    fn a_key_fixed_by_another_is_dropped_and_of_two_that_fix_each_other_the_named_one_kept() {
        let kind = column(&["uniform", "min_snr", "uniform", "min_snr"]);
        let gamma = column(&["null", "5.0", "null", "5.0"]);
        let lr = column(&["1", "1", "2", "2"]);
        let columns = [kind, gamma, lr];
        // kind and γ determine each other: the one ranked first (named in cells) stays.
        let rank = [(false, 0), (true, 1), (false, 2)];
        assert!(!follows_another(0, &columns, &rank));
        assert!(follows_another(1, &columns, &rank));
        assert!(!follows_another(2, &columns, &rank));
    }
}
