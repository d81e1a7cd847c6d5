use clap::Parser;

use ember::cli::{Cli, Command, EXIT_OK, EXIT_USAGE};
use ember::commands;

fn init_logging(filter: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| filter.to_string());
    let env_filter = tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|e| {
        eprintln!("ember: invalid log filter {filter:?} ({e}); using warn");
        tracing_subscriber::EnvFilter::new("warn")
    });
    tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    init_logging(&cli.global.log_level);
    let code = match &cli.command {
        Command::Check { json } => commands::check(&cli.global, *json),
        Command::Plan { backend, json } => commands::plan(&cli.global, backend.as_deref(), *json),
        Command::Apply { backend, json } => commands::apply(&cli.global, backend.as_deref(), *json),
    };
    std::process::exit(code);
}
