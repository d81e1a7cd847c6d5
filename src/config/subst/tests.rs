use super::*;

fn ini(text: &str) -> Ini {
    let mut i = Ini::default();
    let mut problems = vec![];
    i.merge_text(std::path::Path::new("cinder.conf"), text, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    i
}

fn read<'a>(ini: &'a Ini) -> Reader<'a> {
    Reader {
        ini,
        hostname: "node1".into(),
        my_ip: std::cell::OnceCell::from("192.0.2.10".to_string()),
    }
}

fn vg(text: &str) -> Result<Option<Typed>, String> {
    let i = ini(text);
    read(&i)
        .backend("lvm-1", "volume_group")
        .map(|r| r.value)
        .map_err(|p| p.message)
}

#[test]
fn dollar_names_are_substituted_as_oslo_does() {
    let s = |v: &str| Ok(Some(Typed::Str(v.into())));
    assert_eq!(vg("[lvm-1]\nvolume_group = ${host}-vg\n"), s("node1-vg"));
    assert_eq!(
        vg("[DEFAULT]\nhost = h2\n[lvm-1]\nvolume_group = $host-vg\n"),
        s("h2-vg")
    );
    assert_eq!(
        vg("[lvm-1]\nvolume_group = $state_path\n"),
        s("/var/lib/cinder")
    );
    assert_eq!(vg("[lvm-1]\nvolume_group = vg-$$\n"), s("vg-$"));
    assert_eq!(vg("[lvm-1]\nvolume_group = vg\\$x\n"), s("vg$x"));
    // not a name: kept as written
    assert_eq!(vg("[lvm-1]\nvolume_group = $1vg\n"), s("$1vg"));
    assert_eq!(vg("[lvm-1]\nvolume_group = ${host\n"), s("${host"));
    // a backend option names the backend's own (unset: empty), or another group's
    assert_eq!(
        vg("[lvm-1]\nvolume_group = $volume_backend_name-x\n"),
        s("-x")
    );
    assert_eq!(
        vg("[lvm-1]\nvolume_group = ${backend_defaults.volume_group}\n"),
        s("cinder-volumes")
    );
    assert_eq!(
        vg(
            "[backend_defaults]\nvolume_group = base\n[lvm-1]\nvolume_group = ${backend_defaults.volume_group}-1\n"
        ),
        s("base-1")
    );
}

#[test]
fn an_unknown_name_and_a_cycle_are_errors() {
    let e = vg("[lvm-1]\nvolume_group = $nope\n").unwrap_err();
    assert!(e.contains("no such option nope"), "{e}");
    let e = vg("[lvm-1]\nvolume_group = $HOST\n").unwrap_err();
    assert!(e.contains("no such option HOST"), "{e}");
    let e = vg("[lvm-1]\nvolume_group = $volume_group\n").unwrap_err();
    assert!(e.contains("refers back to itself"), "{e}");
}

#[test]
fn a_backend_falls_back_to_backend_defaults_only_when_unset() {
    let i = ini(
        "[backend_defaults]\nreserved_percentage = 7\nvolume_group = shared\n[lvm-1]\nreserved_percentage =\nvolume_group =\n",
    );
    let r = read(&i);
    // an empty integer is no value: [backend_defaults]'s
    assert_eq!(
        r.backend("lvm-1", "reserved_percentage").unwrap().value,
        Some(Typed::Int(7))
    );
    // an empty string is a value
    assert_eq!(
        r.backend("lvm-1", "volume_group").unwrap().value,
        Some(Typed::Str(String::new()))
    );
}
