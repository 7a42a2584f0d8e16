//! What roomgate stores in Redis is sealed with `shared.key`: whoever reads the Redis (a
//! backup, a shared instance, a `MONITOR`) sees neither tokens nor room records, and a
//! value cannot be moved under another key (the key's name is bound to its seal).
//!
//! ChaCha20-Poly1305 from `ring` (already in the build for TLS), with a key derived from
//! `shared.key` by HKDF-SHA256 and a random nonce per value.

use ring::{
    aead::{self, Aad, LessSafeKey, Nonce, UnboundKey},
    hkdf,
    rand::{SecureRandom, SystemRandom},
};
use secrecy::{ExposeSecret, SecretString};

/// Seals and opens values with the fleet's key.
pub struct Sealer {
    key: LessSafeKey,
    random: SystemRandom,
}

/// A sealed value could not be opened: another key, or tampered with.
#[derive(Debug, thiserror::Error)]
#[error("a shared value could not be opened (another shared.key, or altered)")]
pub struct Unsealable;

impl Sealer {
    /// The sealer of `secret` (checked at start-up to be at least 32 bytes).
    pub fn new(secret: &SecretString) -> Self {
        let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"roomgate shared state");
        let prk = salt.extract(secret.expose_secret().as_bytes());
        let okm = prk
            .expand(&[b"seal v1"], &aead::CHACHA20_POLY1305)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        let key = UnboundKey::from(okm);
        Sealer {
            key: LessSafeKey::new(key),
            random: SystemRandom::new(),
        }
    }

    /// `plain`, sealed for the Redis key `name`: nonce, then ciphertext and tag.
    pub fn seal(&self, name: &str, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0_u8; aead::NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .expect("the system's random source works");
        let mut out = Vec::with_capacity(aead::NONCE_LEN + plain.len() + aead::MAX_TAG_LEN);
        out.extend_from_slice(&nonce);
        let mut body = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut body,
            )
            .expect("a value under 256 GiB seals");
        out.extend_from_slice(&body);
        out
    }

    /// The value sealed for `name`, or [`Unsealable`].
    pub fn open(&self, name: &str, sealed: &[u8]) -> Result<Vec<u8>, Unsealable> {
        if sealed.len() < aead::NONCE_LEN {
            return Err(Unsealable);
        }
        let (nonce, body) = sealed.split_at(aead::NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unsealable)?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut body)
            .map_err(|_| Unsealable)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(key: &str) -> Sealer {
        Sealer::new(&SecretString::from(key.to_owned()))
    }

    #[test]
    fn a_sealed_value_opens_under_its_own_name_only() {
        let s = sealer("k".repeat(32).as_str());
        let sealed = s.seal("roomgate:tokens", b"refresh-token-value");
        assert!(
            !sealed.windows(b"refresh".len()).any(|w| w == b"refresh"),
            "the stored bytes do not show the value"
        );
        assert_eq!(
            s.open("roomgate:tokens", &sealed).unwrap(),
            b"refresh-token-value"
        );
        assert!(
            s.open("roomgate:other", &sealed).is_err(),
            "moved under another name"
        );
    }

    #[test]
    fn another_key_or_a_changed_byte_cannot_open_it() {
        let s = sealer("k".repeat(32).as_str());
        let sealed = s.seal("n", b"value");
        assert!(sealer("j".repeat(32).as_str()).open("n", &sealed).is_err());
        let mut changed = sealed.clone();
        *changed.last_mut().unwrap() ^= 1;
        assert!(s.open("n", &changed).is_err());
        assert!(s.open("n", &sealed[..5]).is_err(), "too short");
    }

    #[test]
    fn two_seals_of_one_value_differ() {
        let s = sealer("k".repeat(32).as_str());
        assert_ne!(s.seal("n", b"value"), s.seal("n", b"value"));
    }
}
