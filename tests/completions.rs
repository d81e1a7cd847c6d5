//! The shell completions the package installs (completions/: bash, zsh, fish) are generated
//! from the clap definitions and cannot drift from them: this test fails when they would
//! differ. `EMBER_UPDATE_COMPLETIONS=1 cargo test --test completions` rewrites them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly, as it should

use clap_complete::Shell;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn completions_are_generated_from_the_cli() {
    for (shell, file) in [
        (Shell::Bash, "ember.bash"),
        (Shell::Zsh, "_ember"),
        (Shell::Fish, "ember.fish"),
    ] {
        let mut cmd = ember::cli::completion_command();
        let mut out = vec![];
        clap_complete::generate(shell, &mut cmd, "ember", &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("apply") && text.contains("--config-file"),
            "{text}"
        );
        // what --help hides, completions do not offer
        assert!(
            !text.contains("--lvm")
                && !["(worker)", "__worker", "'worker:", "\"worker\""]
                    .iter()
                    .any(|w| text.contains(w)),
            "{text}"
        );
        let path = format!("{ROOT}/completions/{file}");
        if std::env::var_os("EMBER_UPDATE_COMPLETIONS").is_some() {
            std::fs::create_dir_all(format!("{ROOT}/completions")).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let shipped = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            shipped == text,
            "{path} differs from what the CLI generates: EMBER_UPDATE_COMPLETIONS=1 cargo test --test completions"
        );
    }
}
