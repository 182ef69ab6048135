//! The justfile's recipes call the binary as the README says: `just --dry-run` prints each
//! recipe's command without running it. `just` comes from scripts/setup-just.sh (CI runs it);
//! outside CI a machine without it skips, saying so.

use std::path::PathBuf;
use std::process::Command;

/// `just` on PATH or in cargo's bin folder (where `cargo install` puts it).
fn just() -> Option<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let candidates = [
        Some(PathBuf::from("just")),
        cargo_home.map(|c| c.join("bin/just")),
    ];
    candidates.into_iter().flatten().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn dry_run(just: &PathBuf, args: &[&str]) -> String {
    let output = Command::new(just)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--dry-run")
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // --dry-run prints the commands on stderr.
    String::from_utf8_lossy(&output.stderr).trim().to_string()
}

#[test]
fn just_ablate_and_just_sweep_run_the_binarys_ablate() {
    let Some(just) = just() else {
        let why = "`just` is not installed: scripts/setup-just.sh installs it";
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipped: {why}");
        return;
    };
    assert_eq!(
        dry_run(&just, &["ablate"]),
        "cargo run --release -- ablate --profile digits --seeds 0 --device cpu"
    );
    assert_eq!(
        dry_run(&just, &["ablate", "mnist", "0,1,2"]),
        "cargo run --release -- ablate --profile mnist --seeds 0,1,2 --device cpu"
    );
    // The sweep recipe hands its arguments on as typed (positional, so parentheses survive).
    assert_eq!(
        dry_run(&just, &["sweep"]),
        "cargo run --release -- ablate \"$@\""
    );
    let listed = Command::new(&just)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--show", "sweep"])
        .output()
        .unwrap();
    let recipe = String::from_utf8_lossy(&listed.stdout);
    assert!(
        recipe.contains("sweep file=\"experiments/sweeps/weighting.yaml\""),
        "{recipe}"
    );
}
