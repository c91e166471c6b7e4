//! Fingerprints: 128-bit hashes of everything an output depends on.
//!
//! Warm builds compare an output's fingerprint with the one recorded when the file was
//! last written, and skip the file when they match. A fingerprint must therefore cover
//! every input of its output; `render` builds each next to the template values it covers.

use xxhash_rust::xxh3::{Xxh3, xxh3_128};

/// A 128-bit fingerprint.
pub type Fingerprint = u128;

/// The fingerprint of some bytes.
pub fn of_bytes(bytes: &[u8]) -> Fingerprint {
    xxh3_128(bytes)
}

/// Builds a fingerprint from parts; every part is length-prefixed, so `("ab", "c")` and
/// `("a", "bc")` differ.
pub struct Builder(Xxh3);

impl Builder {
    /// Starts a fingerprint for one kind of thing (`"post"`, `"term"`...).
    pub fn new(kind: &str) -> Self {
        Builder(Xxh3::new()).str(kind)
    }

    pub fn str(mut self, s: &str) -> Self {
        self.0.update(&(s.len() as u64).to_le_bytes());
        self.0.update(s.as_bytes());
        self
    }

    pub fn fp(mut self, f: Fingerprint) -> Self {
        self.0.update(&f.to_le_bytes());
        self
    }

    pub fn num(mut self, n: u64) -> Self {
        self.0.update(&n.to_le_bytes());
        self
    }

    /// Adds each fingerprint of a list, and the list's length.
    pub fn all(mut self, list: impl IntoIterator<Item = Fingerprint>) -> Self {
        let mut n = 0u64;
        for f in list {
            self.0.update(&f.to_le_bytes());
            n += 1;
        }
        self.num(n)
    }

    pub fn finish(self) -> Fingerprint {
        self.0.digest128()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_delimited() {
        let a = Builder::new("k").str("ab").str("c").finish();
        let b = Builder::new("k").str("a").str("bc").finish();
        assert_ne!(a, b);
        assert_eq!(a, Builder::new("k").str("ab").str("c").finish());
        assert_ne!(
            Builder::new("k").all([1, 2]).finish(),
            Builder::new("k").all([2, 1]).finish()
        );
    }
}
