//! cinder's wipe of a deleted volume: `volume_clear`, `volume_clear_size` and
//! `volume_clear_ionice` (cinder/volume/driver.py, per backend: its own section, then
//! `[backend_defaults]`). cinder's LVM driver reads `volume_clear` at every deletion and, when it
//! is not `none`, the other two; it then runs `ionice <volume_clear_ionice> dd if=/dev/zero
//! of=<the LV> count=<size> oflag=direct` before `lvremove` (cinder/volume/volume_utils.py,
//! `clear_volume`). ember reads them as that deletion would, once, when cinder.conf is read.

use serde::{Deserialize, Serialize};

/// `volume_clear`: cinder's choices since Ocata (`shred` was removed then).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum VolumeClear {
    /// No wipe: the next LV on the freed extents may read the deleted volume's data.
    None,
    /// Zeroes written over the volume (the default).
    #[default]
    Zero,
}

impl std::fmt::Display for VolumeClear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VolumeClear::None => "none",
            VolumeClear::Zero => "zero",
        })
    }
}

/// An I/O scheduling class, as ionice(1) names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum IoClass {
    None,
    Realtime,
    BestEffort,
    Idle,
}

/// The I/O priority `volume_clear_ionice` asks for: what `ionice <flag>` would give `dd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ionice {
    pub class: IoClass,
    /// The class data (0 highest to 7 lowest; meaningful for realtime and best-effort).
    pub level: u8,
    /// `-t`: a priority the kernel refuses is ignored (the clear runs at the usual priority).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_failure: bool,
}

impl Ionice {
    /// The value `ioprio_set(2)` takes: `IOPRIO_PRIO_VALUE(class, level)`.
    pub fn ioprio(&self) -> u16 {
        let class: u16 = match self.class {
            IoClass::None => 0,
            IoClass::Realtime => 1,
            IoClass::BestEffort => 2,
            IoClass::Idle => 3,
        };
        (class << 13) | u16::from(self.level)
    }

    /// One argument as ionice(1) (util-linux) reads it when it is the only option before the
    /// command, as cinder passes it: `-c3`, `-cidle`, `-n7`, `-t`, clustered (`-tc3`), or
    /// `--class=idle`, `--classdata=7`, `--ignore`. Without `-c` the class is best-effort, level
    /// 4; `none` has level 0 and `idle` 7, as ionice sets them. What ionice would run differently
    /// (`-p`, `-P`, `-u`: other processes, and dd not at all; `-h`, `-V`; an option whose value
    /// would be the next argument, `dd`; a command instead of an option) is an error.
    pub fn parse(arg: &str) -> Result<Ionice, String> {
        let mut class: Option<IoClass> = None;
        let mut level: Option<u8> = None;
        let mut ignore_failure = false;
        let mut set = |opt: char, value: &str| -> Result<(), String> {
            match opt {
                'c' => class = Some(io_class(value)?),
                'n' => level = Some(io_level(value)?),
                _ => {}
            }
            Ok(())
        };
        if let Some(long) = arg.strip_prefix("--") {
            match long.split_once('=') {
                Some(("class", v)) => set('c', v)?,
                Some(("classdata", v)) => set('n', v)?,
                None if long == "ignore" => ignore_failure = true,
                _ => {
                    return Err(format!(
                        "{arg:?}: ember reads only ionice's --class=, --classdata= and --ignore (with its value after '=')"
                    ));
                }
            }
        } else if let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut rest = short;
            while let Some(c) = rest.chars().next() {
                rest = &rest[c.len_utf8()..];
                match c {
                    't' => ignore_failure = true,
                    'c' | 'n' if rest.is_empty() => {
                        return Err(format!(
                            "{arg:?}: -{c} without a value: ionice would read the next argument, `dd`, as its value (write it as -{c}3)"
                        ));
                    }
                    'c' | 'n' => {
                        set(c, rest)?;
                        rest = "";
                    }
                    _ => {
                        return Err(format!(
                            "{arg:?}: ember reads only ionice's -c, -n and -t (-p, -P and -u would set another process's priority and not run the clear at all)"
                        ));
                    }
                }
            }
        } else {
            return Err(format!(
                "{arg:?} is not an ionice option (cinder passes it as ionice's one option, such as -c3)"
            ));
        }
        let class = class.unwrap_or(IoClass::BestEffort);
        let level = match class {
            IoClass::None => 0,
            IoClass::Idle => 7,
            _ => level.unwrap_or(4),
        };
        Ok(Ionice {
            class,
            level,
            ignore_failure,
        })
    }
}

/// `-c`'s value: a number 0-3, or a class name (ionice compares them without case).
fn io_class(v: &str) -> Result<IoClass, String> {
    let by_number = match v.parse::<i32>() {
        Ok(0) => Some(IoClass::None),
        Ok(1) => Some(IoClass::Realtime),
        Ok(2) => Some(IoClass::BestEffort),
        Ok(3) => Some(IoClass::Idle),
        Ok(n) => return Err(format!("unknown I/O class {n} (0 to 3)")),
        Err(_) => None,
    };
    by_number
        .or(match v.to_ascii_lowercase().as_str() {
            "none" => Some(IoClass::None),
            "realtime" => Some(IoClass::Realtime),
            "best-effort" => Some(IoClass::BestEffort),
            "idle" => Some(IoClass::Idle),
            _ => None,
        })
        .ok_or_else(|| {
            format!("unknown I/O class {v:?} (0-3, none, realtime, best-effort or idle)")
        })
}

/// `-n`'s value: 0 (highest) to 7 (the kernel refuses more).
fn io_level(v: &str) -> Result<u8, String> {
    match v.parse::<u8>() {
        Ok(n) if n <= 7 => Ok(n),
        _ => Err(format!("class data {v:?} is not 0 to 7")),
    }
}

impl std::fmt::Display for Ionice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.class {
            IoClass::None => f.write_str("none")?,
            IoClass::Idle => f.write_str("idle")?,
            IoClass::Realtime => write!(f, "realtime, level {}", self.level)?,
            IoClass::BestEffort => write!(f, "best-effort, level {}", self.level)?,
        }
        if self.ignore_failure {
            f.write_str(", failure ignored")?;
        }
        Ok(())
    }
}

/// A backend's wipe settings, as read.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ClearSettings {
    pub method: VolumeClear,
    /// `volume_clear_size`: MiB wiped at the start of the volume; 0 is all of it.
    pub size_mib: u32,
    /// `volume_clear_ionice`, parsed; `None` when unset (the daemon's own priority).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ionice: Option<Ionice>,
}

impl ClearSettings {
    /// The bytes a wipe of an LV of `size` bytes writes: all of it, or its first
    /// `volume_clear_size` MiB.
    pub fn bytes(&self, size: u64) -> u64 {
        match self.size_mib {
            0 => size,
            n => size.min(u64::from(n) << 20),
        }
    }

    /// As `ember check` says it: `zero`, `zero (first 1 MiB, ionice idle)`, `none`.
    pub fn describe(&self) -> String {
        let mut extra = vec![];
        if self.method == VolumeClear::Zero {
            if self.size_mib > 0 {
                extra.push(format!("first {} MiB", self.size_mib));
            }
            if let Some(i) = self.ionice {
                extra.push(format!("ionice {i}"));
            }
        }
        match extra.is_empty() {
            true => self.method.to_string(),
            false => format!("{} ({})", self.method, extra.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests;
