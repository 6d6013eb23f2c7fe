//! Server and client streams against each other over loopback TCP, with certificates made by
//! rcgen: both protocol versions, every suite, close_notify, refused certificates, bad
//! configuration input, and a server that survives garbage.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use embassy_futures::block_on;
use embedded_io_async::{ErrorType, Read, Write};
use morgana_tls::rustls;
use morgana_tls::{ConfigError, ConnectError, Roots, TlsError, WallClock};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A blocking std socket as an async stream (each call completes before it returns).
struct Blocking(TcpStream);

impl ErrorType for Blocking {
    type Error = embedded_io_async::ErrorKind;
}

impl Read for Blocking {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.0
            .read(buf)
            .map_err(|_| embedded_io_async::ErrorKind::Other)
    }
}

impl Write for Blocking {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0
            .write(buf)
            .map_err(|_| embedded_io_async::ErrorKind::Other)
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

const CLOCK: WallClock = WallClock(now_ns);

/// A CA and a server certificate (PEM chain, PEM key) for `names`, valid now unless `expired`.
struct Pki {
    ca_pem: String,
    chain_pem: String,
    key_pem: String,
}

fn pki(names: &[&str], expired: bool) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Each CA its own name: a same-named CA would be taken for the issuer (a bad signature).
    static SERIAL: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ca.distinguished_name
        .push(DnType::CommonName, format!("morgana-tls test CA {n}"));
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let cert = params.signed_by(&key, &issuer).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        chain_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// Runs `server` on one accepted connection in a thread, and `client` here; returns both.
fn pair<S, C, RS, RC>(server: S, client: C) -> (RS, RC)
where
    S: FnOnce(Blocking) -> RS + Send + 'static,
    RS: Send + 'static,
    C: FnOnce(Blocking) -> RC,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        server(Blocking(sock))
    });
    let rc = client(Blocking(TcpStream::connect(addr).unwrap()));
    (handle.join().unwrap(), rc)
}

/// Echoes one request line back in upper case, then closes with close_notify.
fn echo_server(
    config: Arc<rustls::ServerConfig>,
) -> impl FnOnce(Blocking) -> Result<String, TlsError> {
    move |io| {
        block_on(async move {
            let mut tls = morgana_tls::accept(io, &config).await?;
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = Vec::new();
            while !got.ends_with(b"\n") {
                let n = tls.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            let version = format!("{:?}", tls.connection().protocol_version());
            tls.write_all(&got.to_ascii_uppercase()).await?;
            tls.close().await?;
            Ok(version)
        })
    }
}

fn client_roundtrip<'a>(
    config: Arc<rustls::ClientConfig>,
    name: &'a str,
    message: &'a [u8],
) -> impl FnOnce(Blocking) -> Result<Vec<u8>, ConnectError> + 'a {
    move |io| {
        block_on(async move {
            let mut tls = morgana_tls::connect(io, &config, name).await?;
            tls.write_all(message).await.map_err(ConnectError::Tls)?;
            let mut out = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = tls.read(&mut buf).await.map_err(ConnectError::Tls)?;
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
            Ok(out)
        })
    }
}

#[test]
fn every_suite_both_versions_round_trip() {
    let p = pki(&["tls.test"], false);
    let server =
        morgana_tls::server_config(p.chain_pem.as_bytes(), p.key_pem.as_bytes(), CLOCK).unwrap();
    // A message over several records.
    let mut message = vec![b'a'; 40_000];
    message.push(b'\n');
    let suites = morgana_tls::provider::provider().cipher_suites;
    for suite in suites
        .iter()
        .filter(|s| !format!("{:?}", s.suite()).contains("RSA"))
    {
        let mut provider = morgana_tls::provider::provider();
        provider.cipher_suites = vec![*suite];
        let version = suite.version();
        let config =
            rustls::ClientConfig::builder_with_details(Arc::new(provider), Arc::new(CLOCK))
                .with_protocol_versions(&[version])
                .unwrap()
                .dangerous()
                .with_custom_certificate_verifier(
                    rustls::client::WebPkiServerVerifier::builder_with_provider(
                        Arc::new(roots(&p.ca_pem)),
                        Arc::new(morgana_tls::provider::provider()),
                    )
                    .build()
                    .unwrap(),
                )
                .with_no_client_auth();
        let (sv, got) = pair(
            echo_server(server.clone()),
            client_roundtrip(Arc::new(config), "tls.test", &message),
        );
        let expect = format!("Some({:?})", version.version);
        assert_eq!(sv.unwrap(), expect, "{:?}", suite.suite());
        assert_eq!(
            got.unwrap(),
            message.to_ascii_uppercase(),
            "{:?}",
            suite.suite()
        );
    }
}

fn roots(ca_pem: &str) -> rustls::RootCertStore {
    let mut store = rustls::RootCertStore::empty();
    for c in morgana_tls::config::certificates_from_pem("CA", ca_pem.as_bytes()).unwrap() {
        store.add(c).unwrap();
    }
    store
}

/// The client's error for a server with `p`'s certificate, trusting `ca_pem`, naming `name`.
fn refused(p: &Pki, ca_pem: &str, name: &str) -> String {
    let server =
        morgana_tls::server_config(p.chain_pem.as_bytes(), p.key_pem.as_bytes(), CLOCK).unwrap();
    let client = morgana_tls::client_config(Roots::Pem(ca_pem.as_bytes()), CLOCK).unwrap();
    let (sv, got) = pair(echo_server(server), client_roundtrip(client, name, b"x\n"));
    assert!(sv.is_err(), "the server saw no error");
    got.unwrap_err().to_string()
}

#[test]
fn bad_certificates_are_refused_with_what_is_wrong() {
    let good = pki(&["tls.test"], false);
    assert_eq!(
        refused(&good, &good.ca_pem, "other.test"),
        "the server's certificate is not valid for other.test"
    );
    let other = pki(&["tls.test"], false);
    assert_eq!(
        refused(&good, &other.ca_pem, "tls.test"),
        "the server's certificate is not signed by a trusted CA"
    );
    let expired = pki(&["tls.test"], true);
    assert_eq!(
        refused(&expired, &expired.ca_pem, "tls.test"),
        "the server's certificate has expired"
    );
    // The bundled roots know no test CA.
    let server =
        morgana_tls::server_config(good.chain_pem.as_bytes(), good.key_pem.as_bytes(), CLOCK)
            .unwrap();
    let client = morgana_tls::client_config(Roots::Bundled, CLOCK).unwrap();
    let (_, got) = pair(
        echo_server(server),
        client_roundtrip(client, "tls.test", b"x\n"),
    );
    assert_eq!(
        got.unwrap_err().to_string(),
        "the server's certificate is not signed by a trusted CA"
    );
}

#[test]
fn bad_configuration_input_is_named() {
    let p = pki(&["tls.test"], false);
    let other = pki(&["tls.test"], false);
    let err = |chain: &str, key: &str| {
        morgana_tls::server_config(chain.as_bytes(), key.as_bytes(), CLOCK)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(&p.chain_pem, &other.key_pem),
        "certificate chain: its public key does not match the private key"
    );
    assert_eq!(
        err("", &p.key_pem),
        "certificate chain: no PEM certificate found"
    );
    assert_eq!(
        err(&p.chain_pem, ""),
        "private key: no PEM private key found"
    );
    let truncated = &p.chain_pem[..p.chain_pem.len() - 30];
    assert!(
        err(truncated, &p.key_pem).starts_with("certificate chain: malformed PEM"),
        "{}",
        err(truncated, &p.key_pem)
    );
    let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert!(
        err(garbage, &p.key_pem).starts_with("certificate chain: "),
        "{}",
        err(garbage, &p.key_pem)
    );
    let rsa_like = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
    assert_eq!(
        err(&p.chain_pem, rsa_like),
        "private key: unsupported private key: expected an ECDSA P-256 or Ed25519 key"
    );
    let bad_ca = morgana_tls::client_config(Roots::Pem(b"not pem"), CLOCK).unwrap_err();
    assert_eq!(
        bad_ca,
        ConfigError::Pem {
            what: "CA certificates",
            reason: "no PEM certificate found".into()
        }
    );
}

#[test]
fn garbage_and_truncated_hellos_do_not_stop_the_server() {
    let p = pki(&["tls.test"], false);
    let server =
        morgana_tls::server_config(p.chain_pem.as_bytes(), p.key_pem.as_bytes(), CLOCK).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let srv = server.clone();
    let handle = std::thread::spawn(move || {
        let mut results = Vec::new();
        for _ in 0..4 {
            let (sock, _) = listener.accept().unwrap();
            results.push(echo_server(srv.clone())(Blocking(sock)).map_err(|e| e.to_string()));
        }
        results
    });
    // Not TLS at all; a record header promising more than follows; a ClientHello cut short.
    for bytes in [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        &[
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
        ][..],
        &[0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03][..],
    ] {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(bytes).unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    }
    let client = morgana_tls::client_config(Roots::Pem(p.ca_pem.as_bytes()), CLOCK).unwrap();
    let got = client_roundtrip(client, "tls.test", b"still here\n")(Blocking(
        TcpStream::connect(addr).unwrap(),
    ));
    assert_eq!(got.unwrap(), b"STILL HERE\n");
    let results = handle.join().unwrap();
    assert!(results[..3].iter().all(|r| r.is_err()), "{results:?}");
    assert_eq!(results[3].as_deref(), Ok("Some(TLSv1_3)"));
}
