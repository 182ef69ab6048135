//! Finds the line and column of a dotted key in a YAML text, so errors found after parsing
//! (a β out of range, say) can still point at the line that set it. Walks yaml-rust2's parse
//! events, which carry positions, so flow mappings (`train: {lr: 1}`) are found too.

use yaml_rust2::parser::{Event, Parser};

/// What the walk is inside of.
enum Frame {
    /// A mapping: the key whose value comes next, or None while a key is awaited.
    Mapping(Option<String>),
    Sequence,
}

/// (line, column), both 1-based, of the key `path` (e.g. ["train", "lr"]) in `text`; None if
/// the text does not set it or does not parse (the parse error is reported elsewhere).
pub fn locate_key(text: &str, path: &[&str]) -> Option<(usize, usize)> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        let (event, mark) = parser.next_token().ok()?;
        // A value just ended: its mapping awaits the next key.
        let value_done = |stack: &mut Vec<Frame>| {
            if let Some(Frame::Mapping(key)) = stack.last_mut() {
                *key = None;
            }
        };
        match event {
            Event::StreamEnd => return None,
            Event::MappingStart(..) => stack.push(Frame::Mapping(None)),
            Event::SequenceStart(..) => stack.push(Frame::Sequence),
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                value_done(&mut stack);
            }
            Event::Scalar(value, ..) => match stack.last_mut() {
                Some(Frame::Mapping(key @ None)) => {
                    *key = Some(value);
                    if key_path_matches(&stack, path) {
                        return Some((mark.line(), mark.col() + 1));
                    }
                }
                _ => value_done(&mut stack),
            },
            Event::Alias(_) => value_done(&mut stack),
            _ => {}
        }
    }
}

/// Whether the keys of the open mappings spell `path` (sequences break the path).
fn key_path_matches(stack: &[Frame], path: &[&str]) -> bool {
    stack.len() == path.len()
        && stack.iter().zip(path).all(|(frame, want)| match frame {
            Frame::Mapping(Some(key)) => key == want,
            _ => false,
        })
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

    #[test]
    fn finds_keys_inside_flow_mappings_and_after_sequences() {
        let text = "model: {channel_mult: [1, 2], dropout: 0.1}\ntrain: {steps: 3}\n";
        assert_eq!(locate_key(text, &["model", "dropout"]), Some((1, 31)));
        assert_eq!(locate_key(text, &["model", "channel_mult"]), Some((1, 9)));
        assert_eq!(locate_key(text, &["train", "steps"]), Some((2, 9)));
        assert_eq!(locate_key(text, &["steps"]), None);
        assert_eq!(locate_key("a: [1\n", &["a"]), Some((1, 1)));
    }
}
