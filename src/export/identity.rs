//! The identity an initiator sees, derived from the volume, never random: the LUN's unit
//! serial (from which LIO also derives the NAA WWN) and the namespace's UUID, NGUID and the
//! subsystem's serial. Made again after a reboot or a cleared configuration, an export then
//! shows a multipath initiator the same disk (rtslib and cinder's nvmet helper draw them at
//! random; docs/decisions.md, "Exports: identities derived from the volume").
//!
//! A cinder volume's name holds its id (`volume-<uuid>`): that UUID is the identity, as cinder's
//! nvmet helper uses it for `device_uuid`. A name without one gets a stable 128-bit hash of
//! `<vg>/<lv>` (FNV-1a, pinned by a test: a change would change every such volume's disk).

/// A volume's 16 identity bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity([u8; 16]);

impl Identity {
    /// The identity of the LV `lv` of the VG `vg`.
    pub fn of(vg: &str, lv: &str) -> Self {
        match find_uuid(lv) {
            Some(bytes) => Identity(bytes),
            None => Identity(hash128(format!("{vg}/{lv}").as_bytes())),
        }
    }

    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`: nvmet's `device_uuid` and `device_nguid`, and
    /// LIO's `vpd_unit_serial` (rtslib also writes a UUID there).
    pub fn uuid(&self) -> String {
        let h = self.hex();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// nvmet's `attr_serial`: 20 hex digits (the kernel's limit is 20 characters).
    pub fn nvme_serial(&self) -> String {
        self.hex()[..20].to_string()
    }

    fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The last UUID (8-4-4-4-12 hex digits) in `name`, as bytes.
fn find_uuid(name: &str) -> Option<[u8; 16]> {
    let b = name.as_bytes();
    (0..b.len().saturating_sub(35)).rev().find_map(|i| {
        let s = &name[i..i + 36];
        let shape_ok = s.char_indices().all(|(j, c)| match j {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
        if !shape_ok {
            return None;
        }
        let hex: Vec<u8> = s
            .bytes()
            .filter(|c| *c != b'-')
            .map(|c| (c as char).to_digit(16).unwrap_or(0) as u8)
            .collect();
        let mut out = [0u8; 16];
        for (k, o) in out.iter_mut().enumerate() {
            *o = (hex[2 * k] << 4) | hex[2 * k + 1];
        }
        Some(out)
    })
}

/// Two FNV-1a 64-bit hashes with different offsets, side by side.
fn hash128(data: &[u8]) -> [u8; 16] {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut out = [0u8; 16];
    for (half, offset) in [0xcbf2_9ce4_8422_2325u64, 0x6c62_272e_07bb_0142u64]
        .into_iter()
        .enumerate()
    {
        let h = data
            .iter()
            .fold(offset, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME));
        out[half * 8..half * 8 + 8].copy_from_slice(&h.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cinder_volume_is_identified_by_its_id() {
        let id = Identity::of(
            "cinder-volumes",
            "volume-8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d",
        );
        assert_eq!(id.uuid(), "8d0b5c52-1b7c-4c43-9d5e-1f1e2a3b4c5d");
        assert_eq!(id.nvme_serial(), "8d0b5c521b7c4c439d5e");
        // the same in another VG: the id is the volume's, wherever it lives
        assert_eq!(
            Identity::of("vg2", "volume-8D0B5C52-1b7c-4c43-9d5e-1f1e2a3b4c5d").uuid(),
            id.uuid()
        );
    }

    #[test]
    fn other_names_hash_stably_and_apart() {
        // pinned: changing the derivation would show initiators a new disk
        assert_eq!(
            Identity::of("vg", "scratch").uuid(),
            "cb22a83f-d222-e8cb-c7ee-6eb9261428d0"
        );
        assert_ne!(Identity::of("vg", "a"), Identity::of("vg", "b"));
        assert_ne!(Identity::of("vg1", "a"), Identity::of("vg2", "a"));
    }
}
