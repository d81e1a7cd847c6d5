//! The command line (also the source of the man page).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::lvm::LvmSpec;

/// Exit status: success / nothing to do.
pub const EXIT_OK: i32 = 0;
/// Exit status: an error (bad configuration or desired state, an lvm failure).
pub const EXIT_ERROR: i32 = 1;
/// Exit status of `plan`: changes are pending; of `apply`: changes are still pending after the
/// pass (nothing failed, nothing refused).
pub const EXIT_CHANGES: i32 = 2;
/// Exit status of `plan` and `apply`: part of the desired state is refused (it cannot be
/// reached as it is: over-subscription, a shrink, the deletion cap, ...); the rest is done or
/// planned. `status` says `blocked` (and exits 2).
pub const EXIT_REFUSED: i32 = 3;
/// The longest `ember reconcile --wait` waits, in seconds (a week: a pass that clears large
/// thick volumes takes hours); the daemon refuses a longer wait.
pub const MAX_WAIT: u64 = 7 * 24 * 3600;
/// Exit status: the command line itself is wrong (sysexits' EX_USAGE; not 2, which `plan` uses).
pub const EXIT_USAGE: i32 = 64;

#[derive(Debug, Parser)]
#[command(
    name = "ember",
    version,
    about = "Declarative LVM for OpenStack-style block-storage hosts",
    long_about = "ember reads cinder.conf the way cinder-volume does and converges each LVM backend's \
volume group to the thin pool and volumes declared in a YAML desired-state file. It only touches \
logical volumes it created (tagged ember-managed), never shrinks, and deletes only what the \
desired state explicitly marks absent or prunes."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct Global {
    /// A cinder.conf file; repeatable, read in the order given (before and after the command), later files win (default: /etc/cinder/cinder.conf)
    #[arg(long = "config-file", value_name = "PATH")]
    pub config_file: Vec<PathBuf>,
    /// A directory whose *.conf files are read, sorted by name, after the --config-file files; repeatable, in the order given
    #[arg(long = "config-dir", value_name = "DIR")]
    pub config_dir: Vec<PathBuf>,
    /// The desired-state YAML file (default: [ember] desired_state, else desired-state.yaml beside the last config file)
    #[arg(long = "desired-state", value_name = "PATH", global = true)]
    pub desired_state: Option<PathBuf>,
    /// Log level (error, warn, info, debug, trace, off) or a RUST_LOG-style filter of TARGET=LEVEL directives, comma-separated, such as warn,ember=debug (default: info for the daemon, warn otherwise)
    #[arg(
        long = "log-level",
        value_name = "FILTER",
        global = true,
        value_parser = LogFilter,
        hide_possible_values = true
    )]
    pub log_level: Option<String>,
    /// Colour the text for people (plan, apply, check, status, the log on standard error); never a --json document
    #[arg(
        long = "color",
        value_name = "WHEN",
        global = true,
        value_enum,
        default_value_t = ColorWhen::Auto
    )]
    pub color: ColorWhen,
    /// Accept a cinder.conf or desired state that users other than root can change, or that sits below a directory they can change (refused by default when running as root)
    #[arg(long = "allow-insecure-files", global = true)]
    pub allow_insecure_files: bool,
    /// Which LVM to use: a path to the lvm binary, or sim:PATH for the simulator (testing only)
    #[arg(
        long = "lvm",
        value_name = "SPEC",
        global = true,
        hide = true,
        default_value = "lvm"
    )]
    pub lvm: LvmSpec,
}

/// The options that may be given any number of times, before and after the command, read in
/// the order given (as oslo.config reads every `--config-file`). They are not clap globals: a
/// global given after the command replaces what was given before it. Each subcommand has its
/// own copy (see [`command`]).
const REPEATED: &[&str] = &["config_file", "config_dir"];

/// The command line as ember parses it: the derived one, with [`REPEATED`]'s options on each
/// subcommand too.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let repeated: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| REPEATED.contains(&a.get_id().as_str()))
        .cloned()
        .collect();
    cmd.mut_subcommands(|sub| repeated.iter().fold(sub, |sub, a| sub.arg(a.clone())))
}

/// Parses a command line: the repeated options in the order given, wherever they were.
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::FromArgMatches;
    let mut cmd = command();
    let matches = cmd.try_get_matches_from_mut(args)?;
    let mut cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))?;
    if let Some((_, sub)) = matches.subcommand() {
        let after = |id: &str| -> Vec<PathBuf> {
            sub.get_many::<PathBuf>(id)
                .into_iter()
                .flatten()
                .cloned()
                .collect()
        };
        cli.global.config_file.extend(after("config_file"));
        cli.global.config_dir.extend(after("config_dir"));
    }
    Ok(cli)
}

/// `--log-level`: a level, or a filter of `TARGET=LEVEL` directives as tracing's `EnvFilter`
/// (and RUST_LOG) reads them. A bare word that is not a level (`verbose`, `warning`) would be
/// read as a target's name, showing that target's every line and nothing of ember's: refused.
#[derive(Debug, Clone, Copy)]
pub struct LogFilter;

/// The levels `--log-level` takes (any case).
pub const LOG_LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace", "off"];

impl LogFilter {
    pub fn check(filter: &str) -> Result<(), String> {
        const ACCEPTED: &str = "levels: error, warn, info, debug, trace, off; a filter: comma-separated TARGET=LEVEL directives, such as warn,ember=debug";
        if filter.trim().is_empty() {
            return Err(format!("an empty filter ({ACCEPTED})"));
        }
        for d in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            if d.contains('=') || d.parse::<tracing_subscriber::filter::LevelFilter>().is_ok() {
                continue;
            }
            let lower = d.to_ascii_lowercase();
            let hint = LOG_LEVELS
                .iter()
                .find(|l| {
                    (lower.len() >= 3 && (lower.starts_with(*l) || l.starts_with(&lower)))
                        || strsim::osa_distance(&lower, l) <= 1
                })
                .map(|l| format!(": did you mean {l}?"))
                .unwrap_or_default();
            return Err(format!("{d:?} is not a level{hint} ({ACCEPTED})"));
        }
        tracing_subscriber::EnvFilter::builder()
            .parse(filter)
            .map(|_| ())
            .map_err(|e| format!("{e} ({ACCEPTED})"))
    }
}

impl clap::builder::TypedValueParser for LogFilter {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        let parse = |s: &str| LogFilter::check(s).map(|()| s.to_string());
        clap::builder::TypedValueParser::parse_ref(&parse, cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            LOG_LEVELS
                .iter()
                .map(|l| clap::builder::PossibleValue::new(*l)),
        ))
    }
}

/// When `--color` colours: see [`crate::paint`] for what auto decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal (TERM not dumb), unless NO_COLOR is set and not empty; CLICOLOR_FORCE colours a pipe too
    #[default]
    Auto,
    /// Into a pipe or a file too, whatever NO_COLOR says
    Always,
    /// Not even on a terminal
    Never,
}

impl ColorWhen {
    /// The word on the command line (`auto`, `always`, `never`).
    pub fn as_str(self) -> &'static str {
        match self {
            ColorWhen::Auto => "auto",
            ColorWhen::Always => "always",
            ColorWhen::Never => "never",
        }
    }
}

impl Global {
    /// Where the configuration comes from, as on cinder-volume's command line.
    pub fn sources(&self) -> crate::config::Sources {
        crate::config::Sources {
            config_files: self.config_file.clone(),
            config_dirs: self.config_dir.clone(),
            allow_insecure_files: self.allow_insecure_files,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate cinder.conf and the desired state; errors name the file and line
    Check {
        /// Print one JSON document instead of text (format ember-check; schema: /usr/share/ember/schemas/check.schema.json)
        #[arg(long)]
        json: bool,
    },
    /// Show what a pass would change, without changing anything (exit 0: nothing to do, 2: changes pending, 3: something refused, 1: error)
    Plan {
        /// Only this backend (a name from enabled_backends)
        #[arg(long, value_name = "NAME")]
        backend: Option<String>,
        /// Print one JSON document instead of text (format ember-plan; schema: /usr/share/ember/schemas/plan.schema.json)
        #[arg(long)]
        json: bool,
    },
    /// Converge LVM to the desired state once, without the daemon (exit 0: converged, 2: changes still pending after the pass, 3: the rest done, something refused, 1: error)
    Apply {
        /// Only this backend (a name from enabled_backends)
        #[arg(long, value_name = "NAME")]
        backend: Option<String>,
        /// Print one JSON document instead of text (format ember-apply; schema: /usr/share/ember/schemas/apply.schema.json)
        #[arg(long)]
        json: bool,
        /// Confirm this one pass of --backend: a desired state that declares none of its volumes, and up to N deletions above max_deletions_per_pass (N defaults to 0)
        #[arg(long, value_name = "N", requires = "backend", num_args = 0..=1, default_missing_value = "0")]
        allow_deletions: Option<u32>,
    },
    /// Print a desired state that adopts what cinder-volume made (reads cinder.conf and LVM; changes nothing)
    Import {
        /// Only this backend (a name from enabled_backends)
        #[arg(long, value_name = "NAME")]
        backend: Option<String>,
    },
    /// Print, as JSON, the connection dictionary cinder's initialize_connection would return for an exported volume, for os-brick's connect_volume on a compute host (root only: it holds the volume's CHAP password; exit 0: printed, 1: error)
    Connection {
        /// The volume's backend (a name from enabled_backends)
        #[arg(long, value_name = "NAME")]
        backend: String,
        /// The volume (its LV name, as declared in the desired state)
        #[arg(value_name = "VOLUME")]
        volume: String,
        /// The host that will connect: its initiator IQN (iSCSI) or host NQN (NVMe); checked against the volume's export
        #[arg(long, value_name = "NAME")]
        host: Option<String>,
        /// As a connector with multipath set: the plural keys (target_portals, target_iqns, target_luns) even for one portal
        #[arg(long)]
        multipath: bool,
    },
    /// Run the service: a supervisor and one worker process per LVM backend (foreground)
    Daemon,
    /// Ask the running daemon for its state: per backend, worker, last pass, capacity (exit 0: all converged, 2: some pending, blocked, in error or rejected, 1: no daemon)
    Status {
        /// Print one JSON document instead of text (format ember-status; schema: /usr/share/ember/schemas/status.schema.json)
        #[arg(long)]
        json: bool,
        /// Only this backend
        #[arg(long, value_name = "NAME")]
        backend: Option<String>,
        /// List the volumes of each backend's volume group as its last pass read them: size, state (active, pending changes, refused, pruned when), owner
        #[arg(long)]
        volumes: bool,
    },
    /// Ask the running daemon for a pass now (with --wait, wait for it: exit 0: all converged, 2: some pending, blocked or in error, 1: no daemon, or the time limit reached)
    Reconcile {
        /// Only this backend
        #[arg(long, value_name = "NAME")]
        backend: Option<String>,
        /// Confirm the next pass of --backend: a desired state that declares none of its volumes, and up to N deletions above max_deletions_per_pass (N defaults to 0)
        #[arg(long, value_name = "N", requires = "backend", num_args = 0..=1, default_missing_value = "0")]
        allow_deletions: Option<u32>,
        /// Return once the pass asked for (the next to start after the request) has ended on each backend, printing each one's outcome as `ember status` words it
        #[arg(long)]
        wait: bool,
        /// With --wait: give up after this many seconds (the pass goes on)
        #[arg(long, value_name = "SECONDS", requires = "wait", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=MAX_WAIT))]
        timeout: u64,
    },
    /// Ask the running daemon to re-read cinder.conf and the desired state (as SIGHUP does)
    Reload,
    /// One backend's converging loop; started by `ember daemon`, not by hand
    #[command(hide = true)]
    Worker {
        #[arg(long, value_name = "NAME")]
        backend: String,
    },
}

/// The command line as shell completions offer it: without what `--help` hides (the internal
/// `worker` subcommand, the test-only `--lvm`).
pub fn completion_command() -> clap::Command {
    public(command())
}

fn public(cmd: clap::Command) -> clap::Command {
    let mut out = clap::Command::new(cmd.get_name().to_string());
    if let Some(about) = cmd.get_about() {
        out = out.about(about.clone());
    }
    if let Some(v) = cmd.get_version() {
        out = out.version(v.to_string());
    }
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        out = out.arg(a.clone());
    }
    for s in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        out = out.subcommand(public(s.clone()));
    }
    out
}

#[cfg(test)]
mod tests;
