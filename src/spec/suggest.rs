//! "Did you mean …" for misspelt keys and enum values.

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Rewrites serde's "unknown field `x`, expected one of `a`, `b`" (or "unknown variant") so it
/// suggests the closest name instead of listing every one.
pub fn improve_unknown_name(message: &str) -> String {
    for kind in ["unknown field", "unknown variant"] {
        let Some(start) = message.find(kind) else {
            continue;
        };
        let rest = &message[start..];
        let Some(word) = backticked(rest).next() else {
            continue;
        };
        let expected: Vec<&str> = match rest.find("expected") {
            Some(i) => backticked(&rest[i..]).collect(),
            None => Vec::new(),
        };
        let what = if kind == "unknown field" {
            "unknown key"
        } else {
            "unknown value"
        };
        return match closest(word, expected.iter().copied()) {
            Some(best) => format!("{what} `{word}`, did you mean `{best}`?"),
            None if expected.is_empty() => format!("{what} `{word}`"),
            None => format!("{what} `{word}`, expected one of: {}", expected.join(", ")),
        };
    }
    message.to_string()
}

/// The `…`-quoted words of a message, in order.
fn backticked(s: &str) -> impl Iterator<Item = &str> {
    s.split('`').skip(1).step_by(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_close_key() {
        let msg = "unknown field `lrr`, expected one of `steps`, `lr`, `warmup_steps`";
        assert_eq!(
            improve_unknown_name(msg),
            "unknown key `lrr`, did you mean `lr`?"
        );
    }

    #[test]
    fn lists_the_choices_when_nothing_is_close() {
        let msg = "unknown variant `banana`, expected one of `eps`, `mu`, `x0`";
        assert_eq!(
            improve_unknown_name(msg),
            "unknown value `banana`, expected one of: eps, mu, x0"
        );
    }
}
