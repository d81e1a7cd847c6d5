use ember::cli::{Command, EXIT_OK, EXIT_USAGE};
use ember::commands;
use tracing_subscriber::prelude::*;

/// Under systemd (JOURNAL_STREAM set) logs go to the journal with structured fields (BACKEND=,
/// VOLUME=, ACTION=, ...); otherwise human-readable to stderr, coloured if `ansi` (as `--color`
/// decides for stderr). `RUST_LOG` overrides the level.
fn init_logging(filter: &str, ansi: bool) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| filter.to_string());
    let env_filter = tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|e| {
        ember::errln!("ember: invalid log filter {filter:?} ({e}); using info");
        tracing_subscriber::EnvFilter::new("info")
    });
    if std::env::var_os("JOURNAL_STREAM").is_some()
        && let Ok(layer) = tracing_journald::layer()
    {
        let layer = layer
            .with_field_prefix(None)
            .with_syslog_identifier("ember".into());
        tracing_subscriber::registry()
            .with(env_filter)
            .with(layer)
            .init();
        return;
    }
    tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        // each line whole, and through `ember apply`'s progress bar while one is drawn
        .with_writer(ember::logging::Lines::stderr())
        .with_ansi(ansi)
        .with_target(false)
        // a log reader that went away (`ember daemon 2>&1 | head`) must not kill the daemon:
        // tracing would report the failed write with eprint!, which panics on a closed pipe
        .log_internal_errors(false)
        .init();
}

fn main() {
    let cli = match ember::cli::parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let service = matches!(cli.command, Command::Daemon | Command::Worker { .. });
    ember::paint::init(cli.global.color);
    init_logging(
        cli.global
            .log_level
            .as_deref()
            .unwrap_or(if service { "info" } else { "warn" }),
        ember::paint::stderr().is_on(),
    );
    let g = &cli.global;
    let code = match &cli.command {
        Command::Check { json } => commands::check(g, *json),
        Command::Plan { backend, json } => commands::plan(g, backend.as_deref(), *json),
        Command::Apply {
            backend,
            json,
            allow_deletions,
        } => commands::apply(g, backend.as_deref(), *json, *allow_deletions),
        Command::Import { backend } => commands::import(g, backend.as_deref()),
        Command::Connection {
            backend,
            volume,
            host,
            multipath,
        } => commands::connection(
            g,
            &commands::ConnectionRequest {
                backend,
                volume,
                host: host.as_deref(),
                multipath: *multipath,
            },
        ),
        Command::Daemon => ember::daemon::supervisor::run(g),
        Command::Worker { backend } => ember::daemon::worker::run(g, backend),
        Command::Status {
            json,
            backend,
            volumes,
        } => commands::status(g, *json, backend.as_deref(), *volumes),
        Command::Reconcile {
            backend,
            allow_deletions,
            wait,
            timeout,
        } => commands::reconcile(
            g,
            backend.as_deref(),
            *allow_deletions,
            wait.then_some(*timeout),
        ),
        Command::Reload => commands::reload(g),
    };
    // output that could not be written (a full disk) is an error, whatever the command did
    let code = if ember::out::failed() {
        ember::cli::EXIT_ERROR
    } else {
        code
    };
    std::process::exit(code);
}
