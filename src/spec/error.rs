//! Spec errors: one line each — where (file:line:col, or the flag that caused it), which key,
//! why — and several of them at once, so a spec or a sweep with three mistakes is fixed in one
//! round rather than three.

#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    /// `path:line:col`, `path`, or `--set key=value`.
    pub location: String,
    /// The dotted key path, where one is known.
    pub key: Option<String>,
    pub message: String,
    /// Further problems found in the same check, each its own line.
    pub also: Vec<SpecError>,
}

impl SpecError {
    pub fn new(
        location: impl Into<String>,
        key: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            location: location.into(),
            key,
            message: message.into(),
            also: Vec::new(),
        }
    }

    /// All of `errors` as one error (None for none); a repeated line is kept once.
    pub fn all(errors: impl IntoIterator<Item = SpecError>) -> Option<SpecError> {
        let mut lines: Vec<SpecError> = Vec::new();
        for problem in errors.into_iter().flat_map(SpecError::into_problems) {
            if !lines.contains(&problem) {
                lines.push(problem);
            }
        }
        let mut lines = lines.into_iter();
        let mut first = lines.next()?;
        first.also = lines.collect();
        Some(first)
    }

    /// Each problem on its own, this one first.
    pub fn into_problems(mut self) -> Vec<SpecError> {
        let also = std::mem::take(&mut self.also);
        let mut out = vec![self];
        out.extend(also.into_iter().flat_map(SpecError::into_problems));
        out
    }

    /// The same problems, each line led by `context` (a sweep cell's overrides).
    pub fn in_context(self, context: &str) -> SpecError {
        let problems = self.into_problems().into_iter().map(|mut p| {
            p.location = format!("{context}: {}", p.location);
            p
        });
        SpecError::all(problems).expect("at least this one")
    }

    fn line(&self) -> String {
        // One line, whatever the parser said.
        let message = self.message.replace('\n', " ");
        format!("{}: {}{message}", self.location, key_part(&self.key))
    }
}

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.also.is_empty() {
            return write!(f, "{}", self.line());
        }
        let problems = self.clone().into_problems();
        write!(f, "{} problems:", problems.len())?;
        for problem in &problems {
            write!(f, "\n  {}", problem.line())?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecError {}

/// Every spec error is the user's input.
impl crate::error::Cause for SpecError {
    fn is_bad_input(&self) -> bool {
        true
    }
}

fn key_part(key: &Option<String>) -> String {
    key.as_ref()
        .map(|key| format!("key `{key}`: "))
        .unwrap_or_default()
}
