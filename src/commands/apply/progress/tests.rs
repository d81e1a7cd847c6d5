use super::*;
use crate::config::LvmType;
use indicatif::TermLike;

/// What reached the screen and the log, in order: `clear`, `draw <text>`, `log <text>`.
/// One for all the tests here (the log's sink is a plain function), which run one at a time:
/// output goes through the one bar drawn at a time (`crate::out::hold_bar`).
static SCREEN: Mutex<Vec<String>> = Mutex::new(vec![]);
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn record(what: String) {
    SCREEN.lock().unwrap_or_else(|e| e.into_inner()).push(what);
}

fn recorded() -> Vec<String> {
    std::mem::take(&mut *SCREEN.lock().unwrap_or_else(|e| e.into_inner()))
}

/// A terminal in memory.
#[derive(Debug)]
struct Screen;

impl TermLike for Screen {
    fn width(&self) -> u16 {
        160
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        if n > 0 {
            record(format!("up {n}"));
        }
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        record(format!("draw {s}"));
        Ok(())
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        if !s.is_empty() {
            record(format!("draw {s}"));
        }
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        record("clear".into());
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

fn shown() -> Shown {
    let b = crate::testkit::backend("lvm-1", LvmType::Thin);
    Shown::with(
        &b,
        Some(ProgressDrawTarget::term_like(Box::new(Screen))),
        false,
    )
}

fn step(done: usize, total: usize, line: &str) -> Step {
    Step {
        done,
        total,
        line: line.into(),
        clearing: None,
    }
}

fn frames(screen: &[String]) -> Vec<&str> {
    screen
        .iter()
        .filter_map(|l| l.strip_prefix("draw "))
        .collect()
}

#[test]
fn the_first_frame_has_the_passs_total() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    recorded();
    let s = shown();
    assert_eq!(
        recorded(),
        Vec::<String>::new(),
        "nothing drawn before a step"
    );
    s.step(&step(1, 3, "+ create volume v1 1.0 GiB (thin)  [done]"));
    s.step(&step(2, 3, "+ create volume v2 1.0 GiB (thin)  [done]"));
    let screen = recorded();
    let f = frames(&screen);
    assert!(
        f.first()
            .is_some_and(|f| f.contains("lvm-1 [") && f.contains(" 1/3 ")),
        "{screen:#?}"
    );
    assert!(!f.iter().any(|f| f.contains("0/0")), "{screen:#?}");
    s.finish();
}

#[test]
fn a_pass_with_nothing_to_do_draws_no_bar() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    recorded();
    let s = shown();
    // a clear reported before any action finished still knows the total: a step of 0/0 is none
    s.step(&step(0, 0, ""));
    s.finish();
    assert_eq!(recorded(), Vec::<String>::new());
}

#[test]
fn a_log_line_while_the_bar_is_drawn_goes_above_it_never_into_it() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    recorded();
    let log = tracing_subscriber::fmt()
        .with_writer(crate::logging::Lines::new(|b: &[u8]| {
            record(format!("log {}", String::from_utf8_lossy(b).trim_end()));
        }))
        .with_ansi(false)
        .without_time()
        .finish();
    tracing::subscriber::with_default(log, || {
        let s = shown();
        s.step(&step(1, 3, "+ create volume v1 1.0 GiB (thin)  [done]"));
        tracing::warn!("something to say");
        s.finish();
        // the bar gone, output is written as it is
        tracing::warn!("after the bar");
    });
    let screen = recorded();
    let at = |prefix: &str| {
        screen
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {screen:#?}"))
    };
    let log = at("log ");
    assert!(screen[log].contains("something to say"), "{screen:#?}");
    assert_eq!(
        screen[log - 1],
        "clear",
        "the bar cleared first: {screen:#?}"
    );
    assert!(
        screen[log + 1..]
            .iter()
            .find_map(|l| l.strip_prefix("draw "))
            .is_some_and(|f| f.contains(" 1/3 ")),
        "the bar drawn again below the line: {screen:#?}"
    );
    assert!(
        screen.last().is_some_and(|l| l.contains("after the bar")),
        "{screen:#?}"
    );
}
