use super::*;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    parse_from(std::iter::once("ember").chain(args.iter().copied()))
}

fn paths(v: &[PathBuf]) -> Vec<&str> {
    v.iter().map(|p| p.to_str().unwrap()).collect()
}

#[test]
fn config_files_and_dirs_are_kept_in_the_order_given_on_both_sides_of_the_command() {
    let cli = parse(&[
        "--config-file",
        "a",
        "--config-dir",
        "d1",
        "--config-file=b",
        "plan",
        "--config-file",
        "c",
        "--backend",
        "x",
        "--config-dir=d2",
        "--config-file",
        "d",
    ])
    .unwrap();
    assert_eq!(paths(&cli.global.config_file), ["a", "b", "c", "d"]);
    assert_eq!(paths(&cli.global.config_dir), ["d1", "d2"]);
    assert!(matches!(cli.command, Command::Plan { backend: Some(ref b), .. } if b == "x"));
    // on one side only, as before
    let cli = parse(&["status", "--config-file", "a"]).unwrap();
    assert_eq!(paths(&cli.global.config_file), ["a"]);
    let cli = parse(&["--config-file", "a", "daemon"]).unwrap();
    assert_eq!(paths(&cli.global.config_file), ["a"]);
    // the other global options: the last one given wins, wherever it is
    let cli = parse(&["--log-level", "info", "check", "--log-level", "debug"]).unwrap();
    assert_eq!(cli.global.log_level.as_deref(), Some("debug"));
}

#[test]
fn a_log_level_is_a_level_or_a_filter_of_directives() {
    for ok in [
        "error",
        "WARN",
        "Info",
        "debug",
        "trace",
        "off",
        "3",
        "warn,ember=debug",
        "ember=trace",
        "ember=debug,tokio=warn,info",
        "info,",
    ] {
        assert!(LogFilter::check(ok).is_ok(), "{ok}");
        assert!(parse(&["--log-level", ok, "check"]).is_ok(), "{ok}");
    }
    for (bad, says) in [
        ("verbose", "\"verbose\" is not a level ("),
        ("warning", "\"warning\" is not a level: did you mean warn?"),
        ("inf", "did you mean info?"),
        ("ember", "\"ember\" is not a level"),
        ("info,loud", "\"loud\" is not a level"),
        ("ember=loud", "error parsing level filter"),
        ("", "an empty filter"),
    ] {
        let e = LogFilter::check(bad).unwrap_err();
        assert!(e.contains(says), "{bad}: {e}");
        let e = parse(&["check", "--log-level", bad]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation, "{bad}");
    }
}
