//! oslo.config's option types, as cinder's options use them: what a value in cinder.conf
//! becomes when cinder-volume reads it (oslo_config/types.py, 10.7.0). Each returns the error
//! oslo.config would raise, in words.

/// Python's `str.strip()` whitespace (ASCII and Unicode white space).
fn strip(v: &str) -> &str {
    v.trim_matches(super::ini::py_space)
}

/// `ListOpt`: stripped, trailing commas dropped, split at commas, each item stripped. Brackets
/// are kept (`[a, b]` is the items `[a` and `b]`), as oslo's List type without `bounds` keeps
/// them.
pub fn list(value: &str) -> Vec<String> {
    let s = strip(value).trim_end_matches(',');
    if s.is_empty() {
        return vec![];
    }
    s.split(',').map(|i| strip(i).to_string()).collect()
}

/// `IntOpt`: Python's `int()` of the value; whitespace alone (or nothing) is `None`.
/// `int()` takes surrounding white space, a sign, and underscores between digits (`1_0`).
pub fn int(value: &str) -> Result<Option<i64>, String> {
    let s = strip(value);
    if s.is_empty() {
        return Ok(None);
    }
    let (neg, digits) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let valid = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__");
    let n: Option<i64> = valid
        .then(|| digits.replace('_', "").parse().ok())
        .flatten();
    match n {
        Some(n) if neg => Ok(Some(-n)),
        Some(n) => Ok(Some(n)),
        None => Err("expected an integer (as Python's int() reads it: digits, a sign, underscores between digits)".into()),
    }
}

/// `BoolOpt`: the value lower-cased, exactly one of true/1/on/yes or false/0/off/no (no
/// stripping beyond what the file's syntax already did).
pub fn boolean(value: &str) -> Result<bool, String> {
    match value.to_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" => Ok(false),
        _ => Err(format!("unexpected boolean value {value:?}")),
    }
}

/// cinder's `max_over_subscription_ratio` regex, `^(auto|\d*\.\d+|\d+)$` (ASCII digits).
pub fn is_ratio(value: &str) -> bool {
    if value == "auto" {
        return true;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match value.split_once('.') {
        None => !value.is_empty() && digits(value),
        Some((a, b)) => digits(a) && !b.is_empty() && digits(b),
    }
}

/// `HostAddressOpt`: an IPv4 or IPv6 address, or a host name (RFC 1123: labels of 1 to 63
/// letters, digits and hyphens, not starting or ending with one, at most 253 characters, a
/// top-level label that is not all digits); a host name's trailing dot is dropped.
pub fn host_address(value: &str) -> Result<String, String> {
    if value.parse::<std::net::IpAddr>().is_ok() {
        return Ok(value.to_string());
    }
    let bad = || Err(format!("{value} is not a valid host address"));
    if value.is_empty() || value.len() > 253 {
        return bad();
    }
    let v = value.strip_suffix('.').unwrap_or(value);
    let labels: Vec<&str> = v.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|l| l.bytes().any(|b| b.is_ascii_alphabetic() || b == b'-'));
    if tld_ok && labels.iter().all(label_ok) {
        Ok(v.to_string())
    } else {
        bad()
    }
}

#[cfg(test)]
mod tests;
