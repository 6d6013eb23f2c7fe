//! rustls configurations from PEM: a server's certificate chain and key, a client's roots.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::provider::{WallClock, provider};

/// Why a configuration could not be made. Each names the file's role and what is wrong with
/// it, for a one-line error message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A PEM file does not parse, or holds no item of the expected kind.
    #[error("{what}: {reason}")]
    Pem {
        /// Which file: "certificate chain", "private key", "CA certificates".
        what: &'static str,
        /// What the PEM parser said.
        reason: String,
    },
    /// The private key is of a kind the provider cannot sign with, or malformed.
    #[error("private key: {0}")]
    Key(String),
    /// The certificate does not parse, or its public key is not the private key's.
    #[error("certificate chain: {0}")]
    Certificate(String),
    /// A CA certificate is not a usable trust anchor.
    #[error("CA certificates: {0}")]
    Roots(String),
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Tls(String),
}

fn pem_error(what: &'static str, e: rustls::pki_types::pem::Error) -> ConfigError {
    use rustls::pki_types::pem::Error as E;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let reason = match e {
        E::NoItemsFound => match what {
            "private key" => "no PEM private key found".to_string(),
            _ => "no PEM certificate found".to_string(),
        },
        E::MissingSectionEnd { end_marker } => alloc::format!(
            "malformed PEM (no '-----END {}-----' line)",
            text(&end_marker)
        ),
        E::IllegalSectionStart { line } => {
            alloc::format!("malformed PEM (bad line '{}')", text(&line))
        }
        E::Base64Decode(e) => alloc::format!("malformed PEM (bad base64: {e})"),
        other => alloc::format!("malformed PEM ({other})"),
    };
    ConfigError::Pem { what, reason }
}

/// Every certificate in a PEM file, in order; at least one.
pub fn certificates_from_pem(
    what: &'static str,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(what, e))?;
    if certs.is_empty() {
        return Err(pem_error(what, rustls::pki_types::pem::Error::NoItemsFound));
    }
    Ok(certs)
}

/// The shared provider, built once per configuration.
fn shared_provider() -> Arc<CryptoProvider> {
    Arc::new(provider())
}

/// A server configuration for the certificate chain `chain_pem` (end-entity first) and the
/// private key `key_pem` (PKCS#8 or SEC1, ECDSA P-256 or Ed25519); TLS 1.3 and 1.2; time for
/// validity checks of client certificates from `clock`.
pub fn server_config(
    chain_pem: &[u8],
    key_pem: &[u8],
    clock: WallClock,
) -> Result<Arc<ServerConfig>, ConfigError> {
    let chain = certificates_from_pem("certificate chain", chain_pem)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| pem_error("private key", e))?;
    let provider = shared_provider();
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| match e {
            rustls::Error::General(reason) => ConfigError::Key(reason),
            other => ConfigError::Key(other.to_string()),
        })?;
    let certified = CertifiedKey::new(chain, signing_key);
    certified.keys_match().map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => {
            ConfigError::Certificate("its public key does not match the private key".to_string())
        }
        other => ConfigError::Certificate(other.to_string()),
    })?;
    let config = ServerConfig::builder_with_details(provider, Arc::new(clock))
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| ConfigError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
    Ok(Arc::new(config))
}

/// Where a client's trust anchors come from.
#[derive(Debug, Clone, Copy)]
pub enum Roots<'a> {
    /// The Mozilla root program's CAs, as bundled by `webpki-roots`.
    Bundled,
    /// The CA certificates in a PEM file (e.g. a private CA's).
    Pem(&'a [u8]),
}

/// A client configuration that validates servers against `roots` at the time `clock` gives;
/// TLS 1.3 and 1.2.
pub fn client_config(roots: Roots<'_>, clock: WallClock) -> Result<Arc<ClientConfig>, ConfigError> {
    client_config_with(provider(), rustls::ALL_VERSIONS, roots, clock)
}

/// [`client_config`] with `provider` (e.g. [`provider()`] with fewer suites) and `versions`.
pub fn client_config_with(
    provider: CryptoProvider,
    versions: &[&'static rustls::SupportedProtocolVersion],
    roots: Roots<'_>,
    clock: WallClock,
) -> Result<Arc<ClientConfig>, ConfigError> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::Bundled => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Roots::Pem(pem) => {
            for cert in certificates_from_pem("CA certificates", pem)? {
                store
                    .add(cert)
                    .map_err(|e| ConfigError::Roots(e.to_string()))?;
            }
        }
    }
    let provider = Arc::new(provider);
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
        .build()
        .map_err(|e| ConfigError::Tls(e.to_string()))?;
    let config = ClientConfig::builder_with_details(provider, Arc::new(clock))
        .with_protocol_versions(versions)
        .map_err(|e| ConfigError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
