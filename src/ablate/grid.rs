//! The grid's cells before anything runs: each spec (or sweep file) × each point of its sweep
//! × each seed, resolved and checked, every problem gathered into one error. Specs are outer,
//! then the sweep's points, then seeds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Cell;
use crate::spec::sweep::{Point, Sweep};
use crate::spec::sweep_file::{is_sweep_file, read_sweep_file};
use crate::spec::{Experiment, OverrideLine, Overrides, SpecError, SpecTemplate};

/// One spec of the grid with what lays over it.
struct Source {
    template: SpecTemplate,
    sweep: Sweep,
    /// A sweep file's `set:` lines (under the command line's overrides).
    set: Vec<OverrideLine>,
    /// A sweep file's `name:`, else the spec's own name starts the cells' names.
    name: Option<String>,
    seeds: Vec<u64>,
    /// What is wrong with the axes over this spec (then no cell of it is resolved).
    axis_problems: Option<SpecError>,
}

/// What to expand: the spec files, the command line's seeds (None: each sweep file's, else
/// 0), profile, overrides and axes.
pub struct GridRequest<'a> {
    pub specs: &'a [PathBuf],
    pub seeds: Option<&'a [u64]>,
    pub profile: Option<&'a str>,
    pub overrides: &'a Overrides,
    pub sweep: &'a Sweep,
}

/// Every cell of the grid, or every problem found in any of them.
pub fn expand(request: &GridRequest<'_>) -> Result<Vec<Cell>, SpecError> {
    // The command line's axes are checked once, whatever the number of specs.
    let cli_axes = request.sweep.check().err();
    let mut problems: Vec<SpecError> = cli_axes.iter().cloned().collect();
    let mut cells = Vec::new();
    let mut in_cells = CellProblems::default();
    for spec in request.specs {
        let source = match source(spec, request) {
            Ok(source) => source,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        // The files' own problems once, not once per cell.
        let own = source.template.problems();
        in_cells.known.extend(own.iter().cloned());
        problems.extend(own);
        // A wrong axis fails every cell alike: its problems stand alone.
        match (&cli_axes, &source.axis_problems) {
            (None, None) => cells.extend(cells_of(&source, request.overrides, &mut in_cells)),
            (_, axes) => problems.extend(axes.clone()),
        }
    }
    problems.extend(in_cells.into_errors());
    problems.extend(name_collisions(&cells));
    SpecError::all(problems).map_or(Ok(cells), Err)
}

fn source(spec: &Path, request: &GridRequest<'_>) -> Result<Source, SpecError> {
    if !is_sweep_file(spec) {
        return Ok(Source {
            template: SpecTemplate::read(spec, request.profile)?,
            sweep: request.sweep.clone(),
            set: Vec::new(),
            name: None,
            seeds: request.seeds.map_or(vec![0], <[u64]>::to_vec),
            axis_problems: None,
        });
    }
    let file = read_sweep_file(spec)?;
    let mut problems = file.problems.clone();
    // A file without `extends:` has that among its problems.
    let template = (!file.extends.as_os_str().is_empty())
        .then(|| SpecTemplate::read(&file.extends, request.profile))
        .transpose()
        .unwrap_or_else(|e| {
            problems.push(e);
            None
        });
    // The file's axes with the command line's: a key in both is swept twice.
    let sweep = file.sweep.clone().then(request.sweep);
    let axis_problems = sweep.check().err();
    if !problems.is_empty() {
        let spec_problems = template.iter().flat_map(SpecTemplate::problems);
        let all = problems
            .into_iter()
            .chain(spec_problems)
            .chain(axis_problems);
        return Err(SpecError::all(all).expect("not empty"));
    }
    let template = template.expect("a missing `extends:` is one of the file's problems");
    Ok(Source {
        template,
        axis_problems,
        sweep,
        set: file.set,
        name: file.name.clone(),
        seeds: request
            .seeds
            .map_or_else(|| file.seeds.unwrap_or(vec![0]), <[u64]>::to_vec),
    })
}

/// Problems found in cells, each kept once with the cells it was found in (one wrong pair of
/// values fails every cell of the other axes alike).
#[derive(Default)]
struct CellProblems {
    /// (problem, labels of its cells), in the order first found.
    found: Vec<(SpecError, Vec<String>)>,
    /// Problems of the spec files themselves, reported without a cell.
    known: Vec<SpecError>,
}

impl CellProblems {
    fn add(&mut self, label: String, error: SpecError) {
        for problem in error.into_problems() {
            if self.known.contains(&problem) {
                continue;
            }
            match self.found.iter_mut().find(|(p, _)| *p == problem) {
                Some((_, labels)) if labels.contains(&label) => {}
                Some((_, labels)) => labels.push(label.clone()),
                None => self.found.push((problem, vec![label.clone()])),
            }
        }
    }

    fn into_errors(self) -> impl Iterator<Item = SpecError> {
        self.found
            .into_iter()
            .map(|(problem, labels)| match labels.len() {
                _ if labels[0].is_empty() => problem,
                1 => problem.in_context(&format!("cell {}", labels[0])),
                n => problem.in_context(&format!("cell {} (and {} more)", labels[0], n - 1)),
            })
    }
}

/// The cells of one source; a cell's problems go to `problems`, named by its settings.
fn cells_of(source: &Source, overrides: &Overrides, problems: &mut CellProblems) -> Vec<Cell> {
    let mut cells = Vec::new();
    for point in source.sweep.points() {
        for &seed in &source.seeds {
            let lines = cell_lines(source, &point, overrides, seed);
            match source.template.resolve(&lines) {
                Ok(resolved) => cells.push(cell(source, &point, resolved.experiment)),
                Err(e) => problems.add(point.label(), e),
            }
        }
    }
    cells
}

/// The file's `set:`, the point's settings, then the command line's (last: it wins).
fn cell_lines(
    source: &Source,
    point: &Point,
    overrides: &Overrides,
    seed: u64,
) -> Vec<OverrideLine> {
    let cli = Overrides {
        seed: Some(seed),
        ..overrides.clone()
    };
    let mut lines = source.set.clone();
    lines.extend(point.override_lines());
    lines.extend(cli.lines().iter().map(|l| OverrideLine::set(l)));
    lines
}

fn cell(source: &Source, point: &Point, mut experiment: Experiment) -> Cell {
    let base = source
        .name
        .clone()
        .unwrap_or_else(|| experiment.name.clone());
    experiment.name = point.cell_name(&base);
    Cell {
        spec_file: source.template.path().to_path_buf(),
        experiment,
        swept: point
            .settings
            .iter()
            .map(|s| (s.key.clone(), s.value.given.clone()))
            .collect(),
    }
}

/// Two different cells that came to one name and seed (values whose names are alike once
/// made file-safe) would share run folders: refused.
fn name_collisions(cells: &[Cell]) -> Vec<SpecError> {
    let mut seen: BTreeMap<(&str, u64), &Cell> = BTreeMap::new();
    let mut problems = Vec::new();
    for cell in cells {
        let e = &cell.experiment;
        match seen.get(&(e.name.as_str(), e.seed)) {
            Some(other) if other.experiment != *e => problems.push(SpecError::new(
                cell.spec_file.display().to_string(),
                None,
                format!(
                    "two different cells are both named `{}` (seed {}): {:?} and {:?}; give \
                     the values more distinct spellings",
                    e.name, e.seed, other.swept, cell.swept
                ),
            )),
            _ => {
                seen.insert((&e.name, e.seed), cell);
            }
        }
    }
    problems
}
