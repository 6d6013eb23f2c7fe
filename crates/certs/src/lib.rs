//! Development certificates: a CA of one's own and server certificates it signs, for names
//! and IP addresses, as PEM files that `curl --cacert`, `openssl` and `morgana-tls` read.
//!
//! [`write_dir`] lays out a directory as the TLS examples embed it:
//!
//! | file | what |
//! |---|---|
//! | `ca.pem` | the CA certificate: give it to clients (`curl --cacert ca.pem`) |
//! | `ca-key.pem` | the CA's private key (reused when the directory is written again) |
//! | `chain.pem` | the server certificate (signed by the CA) |
//! | `key.pem` | the server's private key (PKCS#8, ECDSA P-256) |
//!
//! These are for development and tests: the CA's key lies next to its certificate.
#![forbid(unsafe_code)]

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

/// Why certificates could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No name was given.
    #[error("no server name given: name the host names and IP addresses the certificate is for")]
    NoNames,
    /// A name is neither a DNS name nor an IP address.
    #[error("'{0}' is not a host name or an IP address")]
    BadName(String),
    /// rcgen refused.
    #[error("making the certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
}

/// A CA: its certificate (PEM) and the means to sign with it.
pub struct Ca {
    /// The CA certificate, PEM.
    pub cert_pem: String,
    /// The CA's private key, PEM.
    pub key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
}

/// A server certificate and its key.
#[derive(Debug, Clone)]
pub struct ServerCert {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key, PKCS#8 PEM.
    pub key_pem: String,
}

/// How long certificates are valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// From 2025 to 2045.
    Current,
    /// Expired: from 2020 to 2021 (for tests of clients that must refuse it).
    Expired,
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2045, 1, 1);
    params
}

impl Ca {
    /// A new CA named `common_name` with a new ECDSA P-256 key.
    pub fn new(common_name: &str) -> Result<Ca, Error> {
        let key = KeyPair::generate()?;
        let params = ca_params(common_name);
        let cert = params.self_signed(&key)?;
        let key_pem = key.serialize_pem();
        Ok(Ca {
            cert_pem: cert.pem(),
            key_pem,
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA named `common_name` of `cert_pem` and `key_pem` (files written by
    /// [`write_dir`] before): certificates it signs name it as their issuer by that name.
    pub fn load(common_name: &str, cert_pem: &str, key_pem: &str) -> Result<Ca, Error> {
        let key = KeyPair::from_pem(key_pem)?;
        let issuer = Issuer::new(ca_params(common_name), key);
        Ok(Ca {
            cert_pem: cert_pem.to_string(),
            key_pem: key_pem.to_string(),
            issuer,
        })
    }

    /// A server certificate for `names` (host names and IP addresses; the first is also the
    /// subject's common name), signed by this CA.
    pub fn server(&self, names: &[&str], validity: Validity) -> Result<ServerCert, Error> {
        let first = names.first().ok_or(Error::NoNames)?;
        let mut params = CertificateParams::default();
        for name in names {
            params.subject_alt_names.push(san(name)?);
        }
        params.distinguished_name.push(DnType::CommonName, *first);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        match validity {
            Validity::Current => {
                params.not_before = rcgen::date_time_ymd(2025, 1, 1);
                params.not_after = rcgen::date_time_ymd(2045, 1, 1);
            }
            Validity::Expired => {
                params.not_before = rcgen::date_time_ymd(2020, 1, 1);
                params.not_after = rcgen::date_time_ymd(2021, 1, 1);
            }
        }
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(ServerCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// A subject alternative name: an IP address if it parses as one, else a DNS name.
fn san(name: &str) -> Result<SanType, Error> {
    if let Ok(ip) = name.parse::<std::net::IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'*')
        });
    if !valid {
        return Err(Error::BadName(name.to_string()));
    }
    let dns = name
        .to_string()
        .try_into()
        .map_err(|_| Error::BadName(name.to_string()))?;
    Ok(SanType::DnsName(dns))
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

/// The common name of the CA [`write_dir`] makes.
pub const DEV_CA_NAME: &str = "Morgana development CA";

/// Writes `dir/{ca.pem,ca-key.pem,chain.pem,key.pem}` (see the crate documentation) for a
/// server certificate for `names`; the CA already in `dir` is reused, else a new one is made.
/// Returns whether the CA is new.
pub fn write_dir(dir: &Path, names: &[&str]) -> Result<bool, Error> {
    if names.is_empty() {
        return Err(Error::NoNames);
    }
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let (ca_path, ca_key_path) = (dir.join("ca.pem"), dir.join("ca-key.pem"));
    let existing = match (
        std::fs::read_to_string(&ca_path),
        std::fs::read_to_string(&ca_key_path),
    ) {
        (Ok(cert), Ok(key)) => Some(Ca::load(DEV_CA_NAME, &cert, &key)?),
        _ => None,
    };
    let new = existing.is_none();
    let ca = match existing {
        Some(ca) => ca,
        None => Ca::new(DEV_CA_NAME)?,
    };
    let server = ca.server(names, Validity::Current)?;
    write(&ca_path, &ca.cert_pem)?;
    write(&ca_key_path, &ca.key_pem)?;
    write(&dir.join("chain.pem"), &server.cert_pem)?;
    write(&dir.join("key.pem"), &server.key_pem)?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses_are_told_apart_and_bad_ones_refused() {
        assert!(matches!(san("10.0.0.2"), Ok(SanType::IpAddress(_))));
        assert!(matches!(san("::1"), Ok(SanType::IpAddress(_))));
        assert!(matches!(san("www.example.test"), Ok(SanType::DnsName(_))));
        for bad in ["", "a..b", "with space", "x/y"] {
            assert!(matches!(san(bad), Err(Error::BadName(_))), "{bad}");
        }
    }

    #[test]
    fn a_directory_keeps_its_ca() {
        let dir = std::env::temp_dir().join(format!("morgana-certs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(write_dir(&dir, &["localhost", "127.0.0.1"]).unwrap());
        let ca = std::fs::read_to_string(dir.join("ca.pem")).unwrap();
        assert!(!write_dir(&dir, &["other.test"]).unwrap());
        assert_eq!(std::fs::read_to_string(dir.join("ca.pem")).unwrap(), ca);
        assert!(matches!(write_dir(&dir, &[]), Err(Error::NoNames)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
