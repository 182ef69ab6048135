//! Finds the line and column of a dotted key in block-style YAML, so errors found after
//! parsing (a β out of range, say) can still point at the line that set it.

/// (line, column), both 1-based, of the key `path` (e.g. ["train", "lr"]) in `text`.
/// Keys inside flow mappings (`{a: 1}`) are not found; callers fall back to the file alone.
pub fn locate_key(text: &str, path: &[&str]) -> Option<(usize, usize)> {
    let mut stack: Vec<(usize, &str)> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('-') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let Some(colon) = trimmed.find(':') else {
            continue;
        };
        let key = trimmed[..colon]
            .trim()
            .trim_matches(|c| c == '"' || c == '\'');
        if key.is_empty() || key.contains(' ') {
            continue;
        }
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        stack.push((indent, key));
        if stack.len() == path.len() && stack.iter().map(|(_, k)| *k).eq(path.iter().copied()) {
            return Some((number + 1, indent + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::locate_key;

    #[test]
    fn finds_nested_keys_by_indentation() {
        let text = "name: x\ntrain:\n  # comment\n  steps: 10\n  lr: 0.1\nsample:\n  lr: 3\n";
        assert_eq!(locate_key(text, &["train", "lr"]), Some((5, 3)));
        assert_eq!(locate_key(text, &["sample", "lr"]), Some((7, 3)));
        assert_eq!(locate_key(text, &["name"]), Some((1, 1)));
        assert_eq!(locate_key(text, &["train", "missing"]), None);
    }
}
