//! Names of lab guests: they become file names and shell words inside the emulated machine
//! (both labs' `/init` scripts), so only letters, digits, `-` and `_` are allowed.

use morgana_build::{Error, Result};

/// `Ok` when `name` is a usable guest name; a usage error naming it otherwise.
pub fn check(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(Error::Usage(format!("invalid guest name '{name}'")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_pass() {
        assert!(check("conformance-blk_512").is_ok());
        for bad in ["", "a b", "a;b", "a/b", "é"] {
            assert_eq!(
                check(bad).unwrap_err().to_string(),
                format!("invalid guest name '{bad}'")
            );
        }
    }
}
