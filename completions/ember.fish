# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ember_global_optspecs
    string join \n config-file= config-dir= desired-state= log-level= color= allow-insecure-files h/help V/version
end

function __fish_ember_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ember_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ember_using_subcommand
    set -l cmd (__fish_ember_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ember -n "__fish_ember_needs_command" -l config-file -d 'A cinder.conf file; repeatable, read in the order given (before and after the command), later files win (default: /etc/cinder/cinder.conf)' -r -F
complete -c ember -n "__fish_ember_needs_command" -l config-dir -d 'A directory whose *.conf files are read, sorted by name, after the --config-file files; repeatable, in the order given' -r -F
complete -c ember -n "__fish_ember_needs_command" -l desired-state -d 'The desired-state YAML file (default: [ember] desired_state, else desired-state.yaml beside the last config file)' -r -F
complete -c ember -n "__fish_ember_needs_command" -l log-level -d 'Log level (error, warn, info, debug, trace, off) or a RUST_LOG-style filter of TARGET=LEVEL directives, comma-separated, such as warn,ember=debug (default: info for the daemon, warn otherwise)' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''
off\t''"
complete -c ember -n "__fish_ember_needs_command" -l color -d 'Colour the text for people (plan, apply, check, status, the log on standard error); never a --json document' -r -f -a "auto\t'On a terminal (TERM not dumb), unless NO_COLOR is set and not empty; CLICOLOR_FORCE colours a pipe too'
always\t'Into a pipe or a file too, whatever NO_COLOR says'
never\t'Not even on a terminal'"
complete -c ember -n "__fish_ember_needs_command" -l allow-insecure-files -d 'Accept a cinder.conf or desired state that users other than root can change, or that sits below a directory they can change (refused by default when running as root)'
complete -c ember -n "__fish_ember_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ember -n "__fish_ember_needs_command" -s V -l version -d 'Print version'
complete -c ember -n "__fish_ember_needs_command" -f -a "check" -d 'Validate cinder.conf and the desired state; errors name the file and line'
complete -c ember -n "__fish_ember_needs_command" -f -a "plan" -d 'Show what a pass would change, without changing anything (exit 0: nothing to do, 2: changes pending, 3: something refused, 1: error)'
complete -c ember -n "__fish_ember_needs_command" -f -a "apply" -d 'Converge LVM to the desired state once, without the daemon (exit 0: converged, 2: changes still pending after the pass, 3: the rest done, something refused, 1: error)'
complete -c ember -n "__fish_ember_needs_command" -f -a "import" -d 'Print a desired state that adopts what cinder-volume made (reads cinder.conf and LVM; changes nothing)'
complete -c ember -n "__fish_ember_needs_command" -f -a "connection" -d 'Print, as JSON, the connection dictionary cinder\'s initialize_connection would return for an exported volume, for os-brick\'s connect_volume on a compute host (root only: it holds the volume\'s CHAP password; exit 0: printed, 1: error)'
complete -c ember -n "__fish_ember_needs_command" -f -a "daemon" -d 'Run the service: a supervisor and one worker process per LVM backend (foreground)'
complete -c ember -n "__fish_ember_needs_command" -f -a "status" -d 'Ask the running daemon for its state: per backend, worker, last pass, capacity (exit 0: all converged, 2: some pending, blocked, in error or rejected, 1: no daemon)'
complete -c ember -n "__fish_ember_needs_command" -f -a "reconcile" -d 'Ask the running daemon for a pass now (with --wait, wait for it: exit 0: all converged, 2: some pending, blocked or in error, 1: no daemon, or the time limit reached)'
complete -c ember -n "__fish_ember_needs_command" -f -a "reload" -d 'Ask the running daemon to re-read cinder.conf and the desired state (as SIGHUP does)'
complete -c ember -n "__fish_ember_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ember -n "__fish_ember_using_subcommand check" -l config-file -d 'A cinder.conf file; repeatable, read in the order given (before and after the command), later files win (default: /etc/cinder/cinder.conf)' -r -F
complete -c ember -n "__fish_ember_using_subcommand check" -l config-dir -d 'A directory whose *.conf files are read, sorted by name, after the --config-file files; repeatable, in the order given' -r -F
complete -c ember -n "__fish_ember_using_subcommand check" -l desired-state -d 'The desired-state YAML file (default: [ember] desired_state, else desired-state.yaml beside the last config file)' -r -F
complete -c ember -n "__fish_ember_using_subcommand check" -l log-level -d 'Log level (error, warn, info, debug, trace, off) or a RUST_LOG-style filter of TARGET=LEVEL directives, comma-separated, such as warn,ember=debug (default: info for the daemon, warn otherwise)' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''
off\t''"
complete -c ember -n "__fish_ember_using_subcommand check" -l color -d 'Colour the text for people (plan, apply, check, status, the log on standard error); never a --json document' -r -f -a "auto\t'On a terminal (TERM not dumb), unless NO_COLOR is set and not empty; CLICOLOR_FORCE colours a pipe too'
always\t'Into a pipe or a file too, whatever NO_COLOR says'
never\t'Not even on a terminal'"
complete -c ember -n "__fish_ember_using_subcommand check" -l json -d 'Print one JSON document instead of text (format ember-check; schema: /usr/share/ember/schemas/check.schema.json)'
complete -c ember -n "__fish_ember_using_subcommand check" -l allow-insecure-files -d 'Accept a cinder.conf or desired state that users other than root can change, or that sits below a directory they can change (refused by default when running as root)'
complete -c ember -n "__fish_ember_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ember -n "__fish_ember_using_subcommand plan" -l backend -d 'Only this backend (a name from enabled_backends)' -r
complete -c ember -n "__fish_ember_using_subcommand plan" -l config-file -d 'A cinder.conf file; repeatable, read in the order given (before and after the command), later files win (default: /etc/cinder/cinder.conf)' -r -F
complete -c ember -n "__fish_ember_using_subcommand plan" -l config-dir -d 'A directory whose *.conf files are read, sorted by name, after the --config-file files; repeatable, in the order given' -r -F
complete -c ember -n "__fish_ember_using_subcommand plan" -l desired-state -d 'The desired-state YAML file (default: [ember] desired_state, else desired-state.yaml beside the last config file)' -r -F
complete -c ember -n "__fish_ember_using_subcommand plan" -l log-level -d 'Log level (error, warn, info, debug, trace, off) or a RUST_LOG-style filter of TARGET=LEVEL directives, comma-separated, such as warn,ember=debug (default: info for the daemon, warn otherwise)' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''
off\t''"
complete -c ember -n "__fish_ember_using_subcommand plan" -l color -d 'Colour the text for people (plan, apply, check, status, the log on standard error); never a --json document' -r -f -a "auto\t'On a terminal (TERM not dumb), unless NO_COLOR is set and not empty; CLICOLOR_FORCE colours a pipe too'
always\t'Into a pipe or a file too, whatever NO_COLOR says'
never\t'Not even on a terminal'"
complete -c ember -n "__fish_ember_using_subcommand plan" -l json -d 'Print one JSON document instead of text (format ember-plan; schema: /usr/share/ember/schemas/plan.schema.json)'
complete -c ember -n "__fish_ember_using_subcommand plan" -l allow-insecure-files -d 'Accept a cinder.conf or desired state that users other than root can change, or that sits below a directory they can change (refused by default when running as root)'
complete -c ember -n "__fish_ember_using_subcommand plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ember -n "__fish_ember_using_subcommand apply" -l backend -d 'Only this backend (a name from enabled_backends)' -r
complete -c ember -n "__fish_ember_using_subcommand apply" -l allow-deletions -d 'Confirm this one pass of --backend: a desired state that declares none of its volumes, and up to N deletions above max_deletions_per_pass (N defaults to 0)' -r
complete -c ember -n "__fish_ember_using_subcommand apply" -l config-file -d 'A cinder.conf file; repeatable, read in the order given (before and after the command), later files win (default: /etc/cinder/cinder.conf)' -r -F
complete -c ember -n "__fish_ember_using_subcommand apply" -l config-dir -d 'A directory whose *.conf files are read, sorted by name, after the --config-file files; repeatable, in the order given' -r -F
complete -c ember -n "__fish_ember_using_subcommand apply" -l desired-state -d 'The desired-state YAML file (default: [ember] desired_state, else desired-state.yaml beside the last config file)' -r -F
complete -c ember -n "__fish_ember_using_subcommand apply" -l log-level -d 'Log level (error, warn, info, debug, trace, off) or a RUST_LOG-style filter of TARGET=LEVEL directives, comma-separated, such as warn,ember=debug (default: info for the daemon, warn otherwise)' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''
off\t''"
complete -c ember -n "__fish_ember_using_subcommand apply" -l color -d 'Colour the text for people (plan, apply, check, status, the log on standard error); never a --json document' -r -f -a "auto\t'On a terminal (TERM not dumb), unless NO_COLOR is set and not empty; CLICOLOR_FORCE colours a pipe too'
always\t'Into a pipe or a file too, whatever NO_COLOR says'
never\t'Not even on a terminal'"
complete -c ember -n "__fish_ember_using_subcommand apply" -l json -d 'Print one JSON document instead of text (format ember-apply; schema: /usr/share/ember/schemas/apply.schema.json)'
complete -c ember -n "__fish_ember_using_subcommand apply" -l allow-insecure-files -d 'Accept a cinder.conf or desired state that users other than root can change, or that sits below a directory they can change (refused by default when running as root)'
complete -c ember -n "__fish_ember_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ember -n "__fish_ember_using_subcommand import" -l backend -d 'Only this backend (a name from enabled_backends)' -r
complete -c ember -n "__fish_ember_using_subcommand import" -l config-file -d 'A cinder.conf file; repeatable, read in the order given (before and after the command), later files win (default: /etc/cinder/cinder.conf)' -r -F
complete -c ember -n "__fish_ember_using_subcommand import" -l config-dir -d 'A directory whose *.conf files are read, sorted by name, after the --config-file files; repeatable, in the order given' -r -F
complete -c ember -n "__fish_ember_using_subcommand import" -l desired-state -d 'The desired-state YAML file (default: [ember] desired_state, else desired-state.yaml beside the last config file)' -r -F
complete -c ember -n "__fish_ember_using_subcommand import" -l log-level -d 'Log level (error, warn, info, debug, trace, off) or a RUST_LOG-style filter of TARGET=LEVEL directives, comma-separated, such as warn,ember=debug (default: info for the daemon, warn otherwise)' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''
off\t''"
complete -c ember -n "__fish_ember_using_subcommand import" -l color -d 'Colour the text for people (plan, apply, check, status, the log on standard error); never a --json document' -r -f -a "auto\t'On a terminal (TERM not dumb), unless NO_COLOR is set and not empty; CLICOLOR_FORCE colours a pipe too'
always\t'Into a pipe or a file too, whatever NO_COLOR says'
never\t'Not even on a terminal'"
complete -c ember -n "__fish_ember_using_subcommand import" -l allow-insecure-files -d 'Accept a cinder.conf or desired state that users other than root can change, or that sits below a directory they can change (refused by default when running as root)'
complete -c ember -n "__fish_ember_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ember -n "__fish_ember_using_subcommand connection" -l backend -d 'The volume\'s backend (a name from enabled_backends)' -r
complete -c ember -n "__fish_ember_using_subcommand connection" -l host -d 'The host that will connect: its initiator IQN (iSCSI) or host NQN (NVMe); checked against the volume\'s export' -r
complete -c ember -n "__fish_ember_using_subcommand connection" -l config-file -d 'A cinder.conf file; repeatable, read in the order given (before and after the command), later files win (default: /etc/cinder/cinder.conf)' -r -F
complete -c ember -n "__fish_ember_using_subcommand connection" -l config-dir -d 'A directory whose *.conf files are read, sorted by name, after the --config-file files; repeatable, in the order given' -r -F
complete -c ember -n "__fish_ember_using_subcommand connection" -l desired-state -d 'The desired-state YAML file (default: [ember] desired_state, else desired-state.yaml beside the last config file)' -r -F
complete -c ember -n "__fish_ember_using_subcommand connection" -l log-level -d 'Log level (error, warn, info, debug, trace, off) or a RUST_LOG-style filter of TARGET=LEVEL directives, comma-separated, such as warn,ember=debug (default: info for the daemon, warn otherwise)' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''
off\t''"
complete -c ember -n "__fish_ember_using_subcommand connection" -l color -d 'Colour the text for people (plan, apply, check, status, the log on standard error); never a --json document' -r -f -a "auto\t'On a terminal (TERM not dumb), unless NO_COLOR is set and not empty; CLICOLOR_FORCE colours a pipe too'
always\t'Into a pipe or a file too, whatever NO_COLOR says'
never\t'Not even on a terminal'"
complete -c ember -n "__fish_ember_using_subcommand connection" -l multipath -d 'As a connector with multipath set: the plural keys (target_portals, target_iqns, target_luns) even for one portal'
complete -c ember -n "__fish_ember_using_subcommand connection" -l allow-insecure-files -d 'Accept a cinder.conf or desired state that users other than root can change, or that sits below a directory they can change (refused by default when running as root)'
complete -c ember -n "__fish_ember_using_subcommand connection" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ember -n "__fish_ember_using_subcommand daemon" -l config-file -d 'A cinder.conf file; repeatable, read in the order given (before and after the command), later files win (default: /etc/cinder/cinder.conf)' -r -F
complete -c ember -n "__fish_ember_using_subcommand daemon" -l config-dir -d 'A directory whose *.conf files are read, sorted by name, after the --config-file files; repeatable, in the order given' -r -F
complete -c ember -n "__fish_ember_using_subcommand daemon" -l desired-state -d 'The desired-state YAML file (default: [ember] desired_state, else desired-state.yaml beside the last config file)' -r -F
complete -c ember -n "__fish_ember_using_subcommand daemon" -l log-level -d 'Log level (error, warn, info, debug, trace, off) or a RUST_LOG-style filter of TARGET=LEVEL directives, comma-separated, such as warn,ember=debug (default: info for the daemon, warn otherwise)' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''
off\t''"
complete -c ember -n "__fish_ember_using_subcommand daemon" -l color -d 'Colour the text for people (plan, apply, check, status, the log on standard error); never a --json document' -r -f -a "auto\t'On a terminal (TERM not dumb), unless NO_COLOR is set and not empty; CLICOLOR_FORCE colours a pipe too'
always\t'Into a pipe or a file too, whatever NO_COLOR says'
never\t'Not even on a terminal'"
complete -c ember -n "__fish_ember_using_subcommand daemon" -l allow-insecure-files -d 'Accept a cinder.conf or desired state that users other than root can change, or that sits below a directory they can change (refused by default when running as root)'
complete -c ember -n "__fish_ember_using_subcommand daemon" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ember -n "__fish_ember_using_subcommand status" -l backend -d 'Only this backend' -r
complete -c ember -n "__fish_ember_using_subcommand status" -l config-file -d 'A cinder.conf file; repeatable, read in the order given (before and after the command), later files win (default: /etc/cinder/cinder.conf)' -r -F
complete -c ember -n "__fish_ember_using_subcommand status" -l config-dir -d 'A directory whose *.conf files are read, sorted by name, after the --config-file files; repeatable, in the order given' -r -F
complete -c ember -n "__fish_ember_using_subcommand status" -l desired-state -d 'The desired-state YAML file (default: [ember] desired_state, else desired-state.yaml beside the last config file)' -r -F
complete -c ember -n "__fish_ember_using_subcommand status" -l log-level -d 'Log level (error, warn, info, debug, trace, off) or a RUST_LOG-style filter of TARGET=LEVEL directives, comma-separated, such as warn,ember=debug (default: info for the daemon, warn otherwise)' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''
off\t''"
complete -c ember -n "__fish_ember_using_subcommand status" -l color -d 'Colour the text for people (plan, apply, check, status, the log on standard error); never a --json document' -r -f -a "auto\t'On a terminal (TERM not dumb), unless NO_COLOR is set and not empty; CLICOLOR_FORCE colours a pipe too'
always\t'Into a pipe or a file too, whatever NO_COLOR says'
never\t'Not even on a terminal'"
complete -c ember -n "__fish_ember_using_subcommand status" -l json -d 'Print one JSON document instead of text (format ember-status; schema: /usr/share/ember/schemas/status.schema.json)'
complete -c ember -n "__fish_ember_using_subcommand status" -l volumes -d 'List the volumes of each backend\'s volume group as its last pass read them: size, state (active, pending changes, refused, pruned when), owner'
complete -c ember -n "__fish_ember_using_subcommand status" -l allow-insecure-files -d 'Accept a cinder.conf or desired state that users other than root can change, or that sits below a directory they can change (refused by default when running as root)'
complete -c ember -n "__fish_ember_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ember -n "__fish_ember_using_subcommand reconcile" -l backend -d 'Only this backend' -r
complete -c ember -n "__fish_ember_using_subcommand reconcile" -l allow-deletions -d 'Confirm the next pass of --backend: a desired state that declares none of its volumes, and up to N deletions above max_deletions_per_pass (N defaults to 0)' -r
complete -c ember -n "__fish_ember_using_subcommand reconcile" -l timeout -d 'With --wait: give up after this many seconds (the pass goes on)' -r
complete -c ember -n "__fish_ember_using_subcommand reconcile" -l config-file -d 'A cinder.conf file; repeatable, read in the order given (before and after the command), later files win (default: /etc/cinder/cinder.conf)' -r -F
complete -c ember -n "__fish_ember_using_subcommand reconcile" -l config-dir -d 'A directory whose *.conf files are read, sorted by name, after the --config-file files; repeatable, in the order given' -r -F
complete -c ember -n "__fish_ember_using_subcommand reconcile" -l desired-state -d 'The desired-state YAML file (default: [ember] desired_state, else desired-state.yaml beside the last config file)' -r -F
complete -c ember -n "__fish_ember_using_subcommand reconcile" -l log-level -d 'Log level (error, warn, info, debug, trace, off) or a RUST_LOG-style filter of TARGET=LEVEL directives, comma-separated, such as warn,ember=debug (default: info for the daemon, warn otherwise)' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''
off\t''"
complete -c ember -n "__fish_ember_using_subcommand reconcile" -l color -d 'Colour the text for people (plan, apply, check, status, the log on standard error); never a --json document' -r -f -a "auto\t'On a terminal (TERM not dumb), unless NO_COLOR is set and not empty; CLICOLOR_FORCE colours a pipe too'
always\t'Into a pipe or a file too, whatever NO_COLOR says'
never\t'Not even on a terminal'"
complete -c ember -n "__fish_ember_using_subcommand reconcile" -l wait -d 'Return once the pass asked for (the next to start after the request) has ended on each backend, printing each one\'s outcome as `ember status` words it'
complete -c ember -n "__fish_ember_using_subcommand reconcile" -l allow-insecure-files -d 'Accept a cinder.conf or desired state that users other than root can change, or that sits below a directory they can change (refused by default when running as root)'
complete -c ember -n "__fish_ember_using_subcommand reconcile" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ember -n "__fish_ember_using_subcommand reload" -l config-file -d 'A cinder.conf file; repeatable, read in the order given (before and after the command), later files win (default: /etc/cinder/cinder.conf)' -r -F
complete -c ember -n "__fish_ember_using_subcommand reload" -l config-dir -d 'A directory whose *.conf files are read, sorted by name, after the --config-file files; repeatable, in the order given' -r -F
complete -c ember -n "__fish_ember_using_subcommand reload" -l desired-state -d 'The desired-state YAML file (default: [ember] desired_state, else desired-state.yaml beside the last config file)' -r -F
complete -c ember -n "__fish_ember_using_subcommand reload" -l log-level -d 'Log level (error, warn, info, debug, trace, off) or a RUST_LOG-style filter of TARGET=LEVEL directives, comma-separated, such as warn,ember=debug (default: info for the daemon, warn otherwise)' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''
off\t''"
complete -c ember -n "__fish_ember_using_subcommand reload" -l color -d 'Colour the text for people (plan, apply, check, status, the log on standard error); never a --json document' -r -f -a "auto\t'On a terminal (TERM not dumb), unless NO_COLOR is set and not empty; CLICOLOR_FORCE colours a pipe too'
always\t'Into a pipe or a file too, whatever NO_COLOR says'
never\t'Not even on a terminal'"
complete -c ember -n "__fish_ember_using_subcommand reload" -l allow-insecure-files -d 'Accept a cinder.conf or desired state that users other than root can change, or that sits below a directory they can change (refused by default when running as root)'
complete -c ember -n "__fish_ember_using_subcommand reload" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ember -n "__fish_ember_using_subcommand help; and not __fish_seen_subcommand_from check plan apply import connection daemon status reconcile reload help" -f -a "check" -d 'Validate cinder.conf and the desired state; errors name the file and line'
complete -c ember -n "__fish_ember_using_subcommand help; and not __fish_seen_subcommand_from check plan apply import connection daemon status reconcile reload help" -f -a "plan" -d 'Show what a pass would change, without changing anything (exit 0: nothing to do, 2: changes pending, 3: something refused, 1: error)'
complete -c ember -n "__fish_ember_using_subcommand help; and not __fish_seen_subcommand_from check plan apply import connection daemon status reconcile reload help" -f -a "apply" -d 'Converge LVM to the desired state once, without the daemon (exit 0: converged, 2: changes still pending after the pass, 3: the rest done, something refused, 1: error)'
complete -c ember -n "__fish_ember_using_subcommand help; and not __fish_seen_subcommand_from check plan apply import connection daemon status reconcile reload help" -f -a "import" -d 'Print a desired state that adopts what cinder-volume made (reads cinder.conf and LVM; changes nothing)'
complete -c ember -n "__fish_ember_using_subcommand help; and not __fish_seen_subcommand_from check plan apply import connection daemon status reconcile reload help" -f -a "connection" -d 'Print, as JSON, the connection dictionary cinder\'s initialize_connection would return for an exported volume, for os-brick\'s connect_volume on a compute host (root only: it holds the volume\'s CHAP password; exit 0: printed, 1: error)'
complete -c ember -n "__fish_ember_using_subcommand help; and not __fish_seen_subcommand_from check plan apply import connection daemon status reconcile reload help" -f -a "daemon" -d 'Run the service: a supervisor and one worker process per LVM backend (foreground)'
complete -c ember -n "__fish_ember_using_subcommand help; and not __fish_seen_subcommand_from check plan apply import connection daemon status reconcile reload help" -f -a "status" -d 'Ask the running daemon for its state: per backend, worker, last pass, capacity (exit 0: all converged, 2: some pending, blocked, in error or rejected, 1: no daemon)'
complete -c ember -n "__fish_ember_using_subcommand help; and not __fish_seen_subcommand_from check plan apply import connection daemon status reconcile reload help" -f -a "reconcile" -d 'Ask the running daemon for a pass now (with --wait, wait for it: exit 0: all converged, 2: some pending, blocked or in error, 1: no daemon, or the time limit reached)'
complete -c ember -n "__fish_ember_using_subcommand help; and not __fish_seen_subcommand_from check plan apply import connection daemon status reconcile reload help" -f -a "reload" -d 'Ask the running daemon to re-read cinder.conf and the desired state (as SIGHUP does)'
complete -c ember -n "__fish_ember_using_subcommand help; and not __fish_seen_subcommand_from check plan apply import connection daemon status reconcile reload help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
