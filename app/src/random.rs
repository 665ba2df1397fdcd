//! Unguessable strings: secrets, nonces and confirmation tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;

/// `N` random bytes from the thread's CSPRNG, base64url without padding (safe in URLs,
/// headers and file names).
pub fn token<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_url_safe_of_the_expected_length_and_differ() {
        let a = super::token::<24>();
        let b = super::token::<24>();
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }
}
