#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::{PermissionsExt, symlink};

use super::*;

fn store() -> (tempfile::TempDir, ChapStore) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    (dir, ChapStore::new(state))
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

fn in_alphabet(s: &str) -> bool {
    let all = SYMBOL_GROUPS.concat();
    s.chars().all(|c| all.contains(c))
}

#[test]
fn generated_as_cinder_does_lengths_alphabet_and_every_group() {
    for _ in 0..200 {
        let c = Chap::generate().unwrap();
        assert_eq!(c.userid.len(), USERID_LEN);
        assert_eq!(c.password.len(), PASSWORD_LEN);
        assert!(in_alphabet(&c.userid) && in_alphabet(&c.password), "{c:?}");
        for g in SYMBOL_GROUPS {
            assert!(
                c.password.chars().any(|ch| g.contains(ch)),
                "{g} in the password"
            );
            assert!(
                c.userid.chars().any(|ch| g.contains(ch)),
                "{g} in the user name"
            );
        }
        // cinder's alphabet leaves out what reads alike
        assert!(!c.password.contains(['0', '1', 'I', 'O', 'l']));
    }
}

#[test]
fn generated_pairs_differ_and_use_the_whole_alphabet() {
    let mut seen = std::collections::BTreeSet::new();
    let mut chars = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let c = Chap::generate().unwrap();
        chars.extend(c.password.chars());
        assert!(seen.insert(c.password), "a password came twice");
    }
    // 57 symbols, 4800 draws: each one is drawn (else the draw is biased or cut)
    assert_eq!(chars.len(), SYMBOL_GROUPS.concat().len());
}

#[test]
fn debug_never_shows_the_password() {
    let c = Chap {
        userid: "user".into(),
        password: "s3cretPassw0rd".into(),
    };
    let shown = format!("{c:?} {c:#?}");
    assert!(!shown.contains("s3cretPassw0rd"), "{shown}");
    assert!(shown.contains("user"));
}

#[test]
fn made_once_per_volume_and_kept_root_only() {
    let (_t, s) = store();
    assert_eq!(s.load("lvm-1", "volume-1").unwrap(), None);
    let a = s.get_or_create("lvm-1", "volume-1").unwrap();
    assert_eq!(s.get_or_create("lvm-1", "volume-1").unwrap(), a);
    assert_eq!(s.load("lvm-1", "volume-1").unwrap(), Some(a.clone()));
    // another volume, or the same name in another backend: another pair
    let b = s.get_or_create("lvm-1", "volume-2").unwrap();
    let c = s.get_or_create("lvm-2", "volume-1").unwrap();
    assert_ne!(a, b);
    assert_ne!(a, c);
    let chap = s.state_dir.join("chap");
    assert_eq!(mode(&chap), 0o700);
    assert_eq!(mode(&chap.join("lvm-1")), 0o700);
    assert_eq!(mode(&s.path("lvm-1", "volume-1")), 0o600);
    // no temporary file left behind
    let names: Vec<_> = std::fs::read_dir(chap.join("lvm-1"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(s.volumes("lvm-1").unwrap(), ["volume-1", "volume-2"]);
}

#[test]
fn kept_across_stores_as_across_reboots() {
    let (_t, s) = store();
    let a = s.get_or_create("lvm-1", "volume-1").unwrap();
    let again = ChapStore::new(s.state_dir.clone());
    assert_eq!(again.get_or_create("lvm-1", "volume-1").unwrap(), a);
}

#[test]
fn concurrent_creations_agree_on_one_pair() {
    for round in 0..20 {
        let (_t, s) = store();
        let volume = format!("volume-{round}");
        let pairs: Vec<Chap> = std::thread::scope(|scope| {
            let hs: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| s.get_or_create("lvm-1", &volume).unwrap()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(pairs.iter().all(|p| *p == pairs[0]), "round {round}");
        assert_eq!(s.load("lvm-1", &volume).unwrap().as_ref(), Some(&pairs[0]));
    }
}

#[test]
fn reading_makes_nothing() {
    let (_t, s) = store();
    assert_eq!(s.load("lvm-1", "volume-1").unwrap(), None);
    s.forget("lvm-1", "volume-1").unwrap();
    assert_eq!(s.volumes("lvm-1").unwrap(), Vec::<String>::new());
    assert!(!s.state_dir.join("chap").exists());
    // nor a missing state directory
    let gone = ChapStore::new(s.state_dir.join("missing"));
    assert_eq!(gone.load("lvm-1", "volume-1").unwrap(), None);
    assert!(!s.state_dir.join("missing").exists());
}

#[test]
fn forgotten_then_made_anew() {
    let (_t, s) = store();
    let a = s.get_or_create("lvm-1", "volume-1").unwrap();
    s.forget("lvm-1", "volume-1").unwrap();
    assert_eq!(s.load("lvm-1", "volume-1").unwrap(), None);
    assert!(!s.path("lvm-1", "volume-1").exists());
    s.forget("lvm-1", "volume-1").unwrap();
    assert_ne!(s.get_or_create("lvm-1", "volume-1").unwrap(), a);
}

#[test]
fn put_keeps_another_tools_credentials() {
    let (_t, s) = store();
    s.get_or_create("lvm-1", "volume-1").unwrap();
    let cinders = Chap {
        userid: "ZzK7yTe3ncUvx9tHPq8a".into(),
        password: "Pw2dQxM9yAbc4Def".into(),
    };
    s.put("lvm-1", "volume-1", &cinders).unwrap();
    assert_eq!(s.load("lvm-1", "volume-1").unwrap(), Some(cinders.clone()));
    assert_eq!(s.get_or_create("lvm-1", "volume-1").unwrap(), cinders);
    assert_eq!(mode(&s.path("lvm-1", "volume-1")), 0o600);
    let bad = Chap {
        userid: "a b".into(),
        password: "x".into(),
    };
    assert!(matches!(
        s.put("lvm-1", "volume-1", &bad),
        Err(ChapError::Corrupt { .. })
    ));
}

#[test]
fn names_that_would_leave_the_store_are_refused() {
    let (_t, s) = store();
    for (backend, volume) in [
        ("lvm-1", "../volume-1"),
        ("lvm-1", "a/b"),
        ("lvm-1", ".."),
        ("lvm-1", "."),
        ("lvm-1", ".hidden"),
        ("lvm-1", ""),
        ("lvm-1", "vol ume"),
        ("lvm-1", "vol\nume"),
        ("lvm-1", "volumé"),
        ("..", "volume-1"),
        ("a/b", "volume-1"),
        ("a\\b", "volume-1"),
        ("", "volume-1"),
        ("lvm 1", "volume-1"),
    ] {
        for r in [
            s.get_or_create(backend, volume).map(|_| ()),
            s.load(backend, volume).map(|_| ()),
            s.forget(backend, volume),
        ] {
            assert!(
                matches!(r, Err(ChapError::Name { .. })),
                "{backend:?} {volume:?}: {r:?}"
            );
        }
    }
    let long = "v".repeat(256);
    assert!(matches!(
        s.get_or_create("lvm-1", &long),
        Err(ChapError::Name { .. })
    ));
    assert!(
        !s.state_dir.join("chap").exists(),
        "nothing made for a bad name"
    );
    // cinder's section names and LVM's characters pass
    s.get_or_create("lvmdriver-1@host:x", "volume-8d0b5c52_a+b.c")
        .unwrap();
}

#[test]
fn a_store_others_can_write_is_refused() {
    let (_t, s) = store();
    s.get_or_create("lvm-1", "volume-1").unwrap();
    chmod(&s.state_dir, 0o777);
    let r = s.load("lvm-1", "volume-1");
    assert!(matches!(r, Err(ChapError::Untrusted(_))), "{r:?}");
    chmod(&s.state_dir, 0o755);
    let file = s.path("lvm-1", "volume-1");
    chmod(&file, 0o620);
    let r = s.load("lvm-1", "volume-1");
    assert!(matches!(r, Err(ChapError::Untrusted(_))), "{r:?}");
    let r = s.get_or_create("lvm-1", "volume-1");
    assert!(matches!(r, Err(ChapError::Untrusted(_))), "{r:?}");
    assert_eq!(mode(&file), 0o620, "left as found");
}

#[test]
fn a_store_others_can_read_is_refused() {
    let (_t, s) = store();
    s.get_or_create("lvm-1", "volume-1").unwrap();
    let file = s.path("lvm-1", "volume-1");
    chmod(&file, 0o644);
    let e = s.load("lvm-1", "volume-1").unwrap_err();
    assert!(matches!(e, ChapError::Readable { .. }), "{e:?}");
    assert!(e.to_string().contains("readable by others"), "{e}");
    chmod(&file, 0o600);
    for dir in [s.state_dir.join("chap"), s.state_dir.join("chap/lvm-1")] {
        chmod(&dir, 0o750);
        let r = s.get_or_create("lvm-1", "volume-1");
        assert!(matches!(r, Err(ChapError::Readable { .. })), "{r:?}");
        chmod(&dir, 0o700);
    }
    s.load("lvm-1", "volume-1").unwrap().unwrap();
}

#[test]
fn links_are_not_followed() {
    let (t, s) = store();
    s.get_or_create("lvm-1", "volume-1").unwrap();
    let elsewhere = t.path().join("elsewhere");
    std::fs::write(&elsewhere, r#"{"userid":"u","password":"p"}"#).unwrap();
    chmod(&elsewhere, 0o600);
    symlink(&elsewhere, s.path("lvm-1", "volume-2")).unwrap();
    let r = s.load("lvm-1", "volume-2");
    assert!(matches!(r, Err(ChapError::Untrusted(_))), "{r:?}");
    // nor a backend directory that is a link
    let other = t.path().join("otherdir");
    std::fs::create_dir(&other).unwrap();
    chmod(&other, 0o700);
    symlink(&other, s.state_dir.join("chap/lvm-2")).unwrap();
    let r = s.get_or_create("lvm-2", "volume-1");
    assert!(r.is_err(), "{r:?}");
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 0);
}

#[test]
fn a_broken_record_is_an_error_that_quotes_nothing() {
    let (_t, s) = store();
    s.get_or_create("lvm-1", "volume-1").unwrap();
    let file = s.path("lvm-1", "volume-1");
    for text in [
        r#"{"userid":"u","password":"leakedSecret1","x":1}"#,
        r#"{"userid":"u","password":42}"#,
        r#"{"userid":"u","password":"two words leakedSecret1"}"#,
        r#"{"userid":"u","password":""}"#,
        "leakedSecret1",
        "",
    ] {
        std::fs::write(&file, text).unwrap();
        let e = s.load("lvm-1", "volume-1").unwrap_err();
        assert!(matches!(e, ChapError::Corrupt { .. }), "{text}: {e:?}");
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("leakedSecret1"), "{shown}");
        // and a broken record is never replaced by a new pair
        assert!(s.get_or_create("lvm-1", "volume-1").is_err());
    }
}
