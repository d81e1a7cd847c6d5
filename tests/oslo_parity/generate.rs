//! A seeded, grammar-based generator of cinder.conf files with the quirks real files have:
//! continuations, quotes, case, duplicates, `=`/`:` separators, comments and inline comments,
//! CR/CRLF line endings, `$` substitution, brackets in lists, and errors. Deterministic for a
//! seed, so a disagreement can be reproduced from its file name.

/// xorshift64*: enough randomness for a generator, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability `p` percent.
    pub fn pct(&mut self, p: usize) -> bool {
        self.below(100) < p
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const BACKENDS: &[&str] = &["lvm-1", "lvm-2", "ceph", "lvm_3", "LVM-1"];

// the first three of each list are plain values; the rest are quirks, picked a quarter of the time
const DRIVERS: &[&str] = &[
    "cinder.volume.drivers.lvm.LVMVolumeDriver",
    "cinder.volume.drivers.lvm.LVMVolumeDriver",
    "cinder.volume.drivers.rbd.RBDDriver",
    "cinder.volume.drivers.lvm.LVMISCSIDriver",
    "cinder.volume.drivers.lvm.LVMVolumeDriver # the LVM driver",
    "\"cinder.volume.drivers.lvm.LVMVolumeDriver\"",
];

const VGS: &[&str] = &[
    "vg1",
    "vg2",
    "vg3",
    "cinder-volumes",
    "'vg4'",
    "\"vg5\"",
    "${host}-vg",
    "$state_path",
    "vg-$$",
    "vg\\$x",
    "$nope",
    "${backend_defaults.volume_group}",
    "${DEFAULT.host}",
    "vg-$backend_host",
    "vg\u{1f}",
    "\u{1c}vg10",
    "vg6 # comment",
    "vg 7",
    "vg/8",
    "$volume_backend_name-x",
    "${host",
    "$1vg",
    "",
    "vg9;x",
    "-vg",
];

const LVM_TYPES: &[&str] = &["thin", "default", "auto", "Thin", "thick", "\"thin\"", ""];

const RATIOS: &[&str] = &[
    "10",
    "10.5",
    "20",
    "1e1",
    "2.",
    "+2",
    "\" 2.0 \"",
    "\"auto \"",
    "auto",
    "0.5",
    "\"20\"",
    "1",
    "01",
    "3.25",
    ".5",
    "AUTO",
    "",
    "1.0",
    "00.75",
    "5 # five",
];

const RESERVED: &[&str] = &[
    "10",
    "0",
    "25",
    "1_0",
    "",
    " 5",
    "101",
    "-1",
    "1.0",
    "+5",
    "05",
    "100",
    "1__0",
    "_10",
    "10_",
    "'7'",
    "3 # three",
    "0x10",
];

const BOOLS: &[&str] = &[
    "true",
    "false",
    "True",
    "yes",
    "1",
    "on",
    "No",
    "maybe",
    "\" true\"",
];

const HOSTS: &[&str] = &[
    "node1",
    "node1.example.com",
    "10.0.0.1",
    "my host",
    "-bad",
    "node1.",
    "123",
    "::1",
    "${state_path}",
];

struct Writer<'r> {
    rng: &'r mut Rng,
    lines: Vec<String>,
}

impl Writer<'_> {
    fn comment(&mut self) {
        if self.rng.pct(15) {
            let c = self.rng.pick(&["# a comment", "; another", "#", "  "]);
            // an indented "comment" is a continuation line: only after a value
            if !c.starts_with(' ') {
                self.lines.push(c.to_string());
            }
        }
        if self.rng.pct(10) {
            self.lines.push(String::new());
        }
    }

    fn kv(&mut self, key: &str, value: &str) {
        let key = if self.rng.pct(3) {
            key.to_uppercase()
        } else {
            key.to_string()
        };
        let sep = self.rng.pick(&[" = ", "=", " =", ": ", " : ", "\u{1f}= "]);
        self.lines.push(format!("{key}{sep}{value}"));
        // a value continued on an indented line
        if self.rng.pct(3) {
            self.lines
                .push(format!("    {}", self.rng.pick(&["more", "x"])));
        }
        self.comment();
    }

    fn section(&mut self, name: &str) {
        let name = if self.rng.pct(5) && name != "DEFAULT" {
            name.to_uppercase()
        } else {
            name.to_string()
        };
        self.lines.push(format!("[{name}]"));
    }
}

fn enabled(rng: &mut Rng) -> (String, Vec<&'static str>) {
    let n = 1 + rng.below(3);
    let mut names: Vec<&str> = vec![];
    for _ in 0..n {
        let b = rng.pick(BACKENDS);
        // a name twice now and then (ember refuses it: a departure)
        if !names.contains(&b) || rng.pct(10) {
            names.push(b);
        }
    }
    let mut v = names.join(rng.pick(&[",", ", ", " , "]));
    match rng.below(12) {
        0 => v = format!("[{v}]"),
        1 => v.push(','),
        2 => v = format!(",{v}"),
        3 => v = format!("{v}, ,"),
        4 => v = format!("\"{v}\""),
        5 => v.push_str(" # the backends"),
        6 if rng.pct(30) => v = String::new(),
        _ => {}
    }
    (v, names)
}

fn backend_options(w: &mut Writer, name: &str) {
    let opts: [(&str, &[&str], usize); 8] = [
        ("volume_driver", DRIVERS, 40),
        ("volume_group", VGS, 92),
        ("lvm_type", LVM_TYPES, 50),
        ("max_over_subscription_ratio", RATIOS, 40),
        ("reserved_percentage", RESERVED, 35),
        ("lvm_suppress_fd_warnings", BOOLS, 15),
        ("volume_backend_name", &["LVM", "fast", "${host}", ""], 25),
        ("backend_host", &["shared", "node2", "", "${nosuch}"], 10),
    ];
    for (key, values, p) in opts {
        if w.rng.pct(p) {
            let v = if w.rng.pct(75) {
                values[w.rng.below(values.len().min(3))]
            } else {
                w.rng.pick(values)
            };
            // a distinct volume group per backend, mostly
            let v = if key == "volume_group" && v.starts_with("vg") && w.rng.pct(90) {
                format!("{v}-{}", name.to_lowercase())
            } else {
                v.to_string()
            };
            w.kv(key, &v);
            // a key given twice: the later wins
            if w.rng.pct(4) {
                let again = w.rng.pick(values).to_string();
                w.kv(key, &again);
            }
        }
    }
    if w.rng.pct(4) {
        let v = w.rng.pick(&["None", "none", "/etc/lvm/lvm.conf", ""]);
        w.kv("lvm_conf_file", v);
    }
    clear_options(w);
}

const CLEARS: &[&str] = &["zero", "none", "zero", "shred", "Zero", "\"none\"", ""];
const CLEAR_SIZES: &[&str] = &["0", "1", "1024", "1025", "-1", "", "1_0", "100 # MiB"];
const IONICES: &[&str] = &[
    "-c3",
    "-n7",
    "-c2",
    "-cidle",
    "-tc3",
    "--class=idle",
    "",
    "-c 3",
    "-p1",
    "idle",
    "-c2 -n7",
];

/// cinder's wipe options (in a backend's section, [backend_defaults] or [DEFAULT]).
fn clear_options(w: &mut Writer) {
    for (key, values, p) in [
        ("volume_clear", CLEARS, 15),
        ("volume_clear_size", CLEAR_SIZES, 12),
        ("volume_clear_ionice", IONICES, 12),
    ] {
        if w.rng.pct(p) {
            let v = if w.rng.pct(75) {
                values[w.rng.below(values.len().min(3))]
            } else {
                w.rng.pick(values)
            };
            w.kv(key, v);
        }
    }
}

/// One cinder.conf, as text with `\n` line endings (the caller may change them).
pub fn file(rng: &mut Rng) -> String {
    let mut w = Writer { rng, lines: vec![] };
    let (list, names) = enabled(w.rng);
    w.section("DEFAULT");
    w.comment();
    if w.rng.pct(95) {
        w.kv("enabled_backends", &list);
    }
    if w.rng.pct(15) {
        let h = w.rng.pick(HOSTS).to_string();
        w.kv("host", &h);
    }
    if w.rng.pct(10) {
        w.kv("state_path", "/srv/cinder");
    }
    if w.rng.pct(5) {
        let v = w
            .rng
            .pick(&["vol-%s", "${state_path}-%s", "$nope-%s"])
            .to_string();
        w.kv("volume_name_template", &v);
    }
    // what cinder's wipe falls back to, and an option misplaced
    if w.rng.pct(8) {
        clear_options(&mut w);
    }
    let mut sections: Vec<&str> = names.clone();
    sections.push("backend_defaults");
    if w.rng.pct(20) {
        sections.push(w.rng.pick(BACKENDS));
    }
    for s in sections {
        if s == "backend_defaults" && !w.rng.pct(40) {
            continue;
        }
        if !w.rng.pct(92) {
            continue;
        }
        w.section(s);
        w.comment();
        backend_options(&mut w, s);
    }
    // an error now and then
    match w.rng.below(40) {
        0 => w.lines.push("no separator here".into()),
        1 => w.lines.push("[unterminated".into()),
        2 => w.lines.insert(0, "  continued".into()),
        3 => w.lines.push("= empty key".into()),
        _ => {}
    }
    let mut text = w.lines.join("\n");
    text.push('\n');
    text
}

/// The same text with other line endings, sometimes.
pub fn line_endings(rng: &mut Rng, text: String) -> String {
    match rng.below(10) {
        0 => text.replace('\n', "\r\n"),
        1 => text.replace('\n', "\r"),
        _ => text,
    }
}
