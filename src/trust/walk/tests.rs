use super::*;
use std::os::unix::fs::{PermissionsExt, symlink};

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Gives `p` (not following a link) to uid 65534; false, said so, when not root.
fn give_away(p: &Path) -> bool {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("!!! NOT TESTED (not root): a path of another user's");
        return false;
    }
    let nobody = nix::unistd::Uid::from_raw(65534);
    nix::unistd::fchownat(
        fcntl::AT_FDCWD,
        p,
        Some(nobody),
        None,
        fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .unwrap();
    true
}

#[test]
fn a_private_directory_is_opened_and_made_with_its_mode() {
    let d = tempfile::tempdir().unwrap();
    let made = Dir::open(&d.path().join("a/b"), Some(0o700)).unwrap();
    assert_eq!(made.path(), d.path().join("a/b"));
    for p in ["a", "a/b"] {
        let mode = std::fs::metadata(d.path().join(p))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "{p}");
    }
    // again: the one there is taken
    assert!(Dir::open(&d.path().join("a/b"), Some(0o700)).is_ok());
    assert!(Dir::open(&d.path().join("a/b"), None).is_ok());
    let e = Dir::open(&d.path().join("missing"), None).unwrap_err();
    assert!(e.not_found(), "{e}");
}

#[test]
fn a_directory_on_the_way_others_can_write_is_refused_unless_sticky() {
    let d = tempfile::tempdir().unwrap();
    let open = d.path().join("open");
    std::fs::create_dir_all(open.join("mine")).unwrap();
    chmod(&open, 0o777);
    let e = Dir::open(&open.join("mine"), None).unwrap_err();
    assert!(matches!(e, Untrusted::Writable { dir: true, .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!(
            "{} is writable by everyone (mode 0777)",
            open.display()
        )),
        "{msg}"
    );
    chmod(&open, 0o775);
    let msg = Dir::open(&open.join("mine"), None).unwrap_err().to_string();
    assert!(msg.contains("writable by its group (mode 0775)"), "{msg}");
    // as /tmp: no one else can rename or remove root's entries in it
    chmod(&open, 0o1777);
    assert!(Dir::open(&open.join("mine"), None).is_ok());
    // the directory opened itself is the user's alone, sticky or not
    chmod(&open.join("mine"), 0o1777);
    let e = Dir::open(&open.join("mine"), None).unwrap_err();
    assert!(matches!(e, Untrusted::Writable { dir: false, .. }), "{e}");
}

#[test]
fn a_directory_on_the_way_of_another_user_is_refused_by_name() {
    let d = tempfile::tempdir().unwrap();
    let theirs = d.path().join("theirs");
    std::fs::create_dir_all(theirs.join("ours")).unwrap();
    if !give_away(&theirs) {
        return;
    }
    let e = Dir::open(&theirs.join("ours"), None).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains(&format!(
            "{} is owned by nobody (uid 65534), not root: whoever owns it can replace what is below it",
            theirs.display()
        )),
        "{msg}"
    );
    // and a file below it is not read
    std::fs::write(theirs.join("ours/f"), "x").unwrap();
    let e = read_file(&theirs.join("ours/f"), 100).unwrap_err();
    assert!(matches!(e, Untrusted::Owner { dir: true, .. }), "{e}");
}

#[test]
fn links_are_followed_and_checked_like_directories() {
    let d = tempfile::tempdir().unwrap();
    let real = d.path().join("real");
    std::fs::create_dir_all(real.join("data")).unwrap();
    std::fs::write(real.join("data/file"), "hello").unwrap();
    // relative, with "..", and a link to a link
    std::fs::create_dir(d.path().join("other")).unwrap();
    symlink("../real/data", d.path().join("other/data")).unwrap();
    symlink("other/data/file", d.path().join("file")).unwrap();
    let read = read_file(&d.path().join("file"), 100).unwrap();
    assert_eq!(read.bytes, b"hello");
    assert_eq!(read.size, 5);
    assert!(Dir::open(&d.path().join("other/data"), None).is_ok());
    // an absolute one
    symlink(real.join("data"), d.path().join("abs")).unwrap();
    assert_eq!(
        read_file(&d.path().join("abs/file"), 100).unwrap().bytes,
        b"hello"
    );
    // a link of another user's is not followed
    if give_away(&d.path().join("other/data")) {
        let e = read_file(&d.path().join("file"), 100).unwrap_err();
        assert!(matches!(e, Untrusted::Owner { .. }), "{e}");
        assert!(
            e.to_string().contains("other/data is owned by nobody"),
            "{e}"
        );
    }
}

#[test]
fn a_loop_of_links_ends() {
    let d = tempfile::tempdir().unwrap();
    symlink("b", d.path().join("a")).unwrap();
    symlink("a", d.path().join("b")).unwrap();
    let e = read_file(&d.path().join("a"), 100).unwrap_err();
    assert!(matches!(e, Untrusted::Links { .. }), "{e}");
}

#[test]
fn a_file_is_opened_only_when_it_is_a_regular_file_of_ours_that_only_we_can_write() {
    let d = tempfile::tempdir().unwrap();
    let dir = Dir::open(d.path(), None).unwrap();
    let victim = d.path().join("victim");
    std::fs::write(&victim, "keep me").unwrap();
    // a link: not followed, whatever it points to
    symlink(&victim, d.path().join("link")).unwrap();
    for how in [Open::Read, Open::ReadWrite { create: 0o600 }] {
        let e = dir.file("link", how).unwrap_err();
        assert!(
            matches!(
                e,
                Untrusted::Kind {
                    kind: libc::S_IFLNK,
                    ..
                }
            ),
            "{e}"
        );
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    // a FIFO: refused at once, not waited on
    nix::unistd::mkfifo(&d.path().join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
    let e = dir.file("fifo", Open::Read).unwrap_err();
    assert!(
        matches!(
            e,
            Untrusted::Kind {
                kind: libc::S_IFIFO,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string().contains("is a FIFO, not a regular file"),
        "{e}"
    );
    let e = read_file(&d.path().join("fifo"), 10).unwrap_err();
    assert!(matches!(e, Untrusted::Kind { .. }), "{e}");
    // writable by others
    chmod(&victim, 0o620);
    let e = dir.file("victim", Open::Read).unwrap_err();
    assert!(matches!(e, Untrusted::Writable { dir: false, .. }), "{e}");
    chmod(&victim, 0o644);
    // made with its mode, never truncated
    let f = dir.file("new", Open::ReadWrite { create: 0o600 }).unwrap();
    assert_eq!(f.metadata().unwrap().permissions().mode() & 0o777, 0o600);
    drop(
        dir.file("victim", Open::ReadWrite { create: 0o600 })
            .unwrap(),
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    // another user's
    if give_away(&victim) {
        let e = dir.file("victim", Open::Read).unwrap_err();
        assert!(matches!(e, Untrusted::Owner { dir: false, .. }), "{e}");
        let e = read_file(&victim, 100).unwrap_err();
        assert!(matches!(e, Untrusted::Owner { dir: false, .. }), "{e}");
    }
}

#[test]
fn a_subdirectory_is_never_reached_through_a_link_nor_someone_elses() {
    let d = tempfile::tempdir().unwrap();
    let dir = Dir::open(d.path(), None).unwrap();
    std::fs::create_dir(d.path().join("elsewhere")).unwrap();
    symlink(d.path().join("elsewhere"), d.path().join("sub")).unwrap();
    let e = dir.subdir("sub", Some(0o700)).unwrap_err();
    assert!(
        matches!(
            e,
            Untrusted::Kind {
                kind: libc::S_IFLNK,
                ..
            }
        ),
        "{e}"
    );
    let made = dir.subdir("made", Some(0o700)).unwrap();
    assert!(made.file("x", Open::ReadWrite { create: 0o600 }).is_ok());
    assert!(d.path().join("made/x").exists());
    if give_away(&d.path().join("elsewhere")) {
        let e = dir.subdir("elsewhere", None).unwrap_err();
        assert!(matches!(e, Untrusted::Owner { dir: false, .. }), "{e}");
    }
}

#[test]
fn read_file_reads_up_to_one_byte_past_its_limit() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("big"), vec![b'x'; 100]).unwrap();
    let r = read_file(&d.path().join("big"), 10).unwrap();
    assert_eq!((r.bytes.len(), r.size), (11, 100));
    assert!(
        read_file(&d.path().join("nothing"), 10)
            .unwrap_err()
            .not_found()
    );
}
