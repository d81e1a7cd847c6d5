use super::*;
use crate::size::Bytes;

fn at(line: usize, column: usize) -> Option<Loc> {
    Some(Loc { line, column })
}

fn get<'a>(n: &'a Node, key: &str) -> &'a Node {
    match &n.kind {
        Kind::Map(p) => {
            &p.iter()
                .find(|(k, _)| k.scalar_text().as_deref() == Some(key))
                .unwrap()
                .1
        }
        other => panic!("{other:?}"),
    }
}

fn key<'a>(n: &'a Node, key: &str) -> &'a Node {
    match &n.kind {
        Kind::Map(p) => {
            &p.iter()
                .find(|(k, _)| k.scalar_text().as_deref() == Some(key))
                .unwrap()
                .0
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn string_scalars_and_keys_are_where_the_file_has_them() {
    let t = parse("a:\n  bé: 'x y'\n  n: 12\n  f: { size: 10G }\n  s: [p, q]\n").unwrap();
    let a = get(&t, "a");
    assert_eq!(t.at, at(1, 1));
    assert_eq!(key(a, "bé").at, at(2, 3));
    // columns count characters, as yaml_serde's do: `'x y'` starts after `bé: `, at its quote
    assert_eq!(get(a, "bé").at, at(2, 7));
    // a number is found after its key
    assert_eq!(get(a, "n").kind, Kind::Int(12));
    assert_eq!(get(a, "n").at, at(3, 6));
    // a flow mapping is where its `{` is
    assert_eq!(get(a, "f").at, at(4, 6));
    assert_eq!(get(get(a, "f"), "size").at, at(4, 14));
    assert_eq!(get(a, "s").at, at(5, 7));
}

#[test]
fn what_is_not_yaml_is_an_error() {
    assert!(parse("a: [\n").is_err());
    assert!(parse("a:\n\tb: 1\n").is_err());
}

#[test]
fn an_error_is_at_the_innermost_node_with_its_path() {
    let t = parse("v: { size: 10X }\nw: { size: 1 }\nx: 10G\n").unwrap();
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct V {
        size: Bytes,
    }
    let e = from_node::<V>(get(&t, "v"), None, "v").unwrap_err();
    assert_eq!((e.at, e.path.as_str()), (at(1, 12), "v.size"), "{e:?}");
    assert!(e.message.contains("invalid size"), "{e:?}");
    // a number, after its key
    let e = from_node::<V>(get(&t, "w"), None, "w").unwrap_err();
    assert_eq!((e.at, e.path.as_str()), (at(2, 12), "w.size"), "{e:?}");
    assert!(e.message.contains("has no unit"), "{e:?}");
    let e = from_node::<V>(get(&t, "x"), None, "x").unwrap_err();
    assert_eq!((e.at, e.path.as_str()), (at(3, 4), "x"), "{e:?}");
    assert!(e.message.contains("invalid type: string \"10G\""), "{e:?}");
    // a value on the next line has no place of its own: its key's
    let t = parse("v:\n  size:\n    10\n").unwrap();
    let e = from_node::<V>(get(&t, "v"), None, "v").unwrap_err();
    assert_eq!((e.at, e.path.as_str()), (at(2, 3), "v.size"), "{e:?}");
    let ok: V = from_node(&parse("size: 1G\n").unwrap(), None, "").unwrap();
    assert_eq!(ok.size, Bytes(1 << 30));
}

#[test]
fn a_plain_scalar_read_as_a_string_is_its_text() {
    let t = parse("1234: x\n").unwrap();
    let Kind::Map(p) = &t.kind else { panic!() };
    let name: String = from_node(&p[0].0, None, "").unwrap();
    assert_eq!(name, "1234");
}
