//! Arbitrary bytes from a client into morgana-tls's server side: the input arrives in pieces
//! of at most 300 bytes, then the connection ends; what the server sends is dropped. The
//! handshake and any reads must end in a result, never a panic (debug assertions on). Seeds:
//! `seeds/tls_server` (ClientHellos recorded from OpenSSL and curl).
#![no_main]

use std::sync::{Arc, OnceLock};

use embedded_io_async::{ErrorKind, ErrorType, Read, Write};
use libfuzzer_sys::fuzz_target;
use morgana_tls::WallClock;

const CHAIN: &[u8] = include_bytes!("../../examples/https-server/certs/chain.pem");
const KEY: &[u8] = include_bytes!("../../examples/https-server/certs/key.pem");

/// 2026-01-01, in nanoseconds since the epoch: inside the certificate's validity.
fn fixed_time() -> u64 {
    1_767_225_600_000_000_000
}

fn config() -> &'static Arc<morgana_tls::rustls::ServerConfig> {
    static CONFIG: OnceLock<Arc<morgana_tls::rustls::ServerConfig>> = OnceLock::new();
    CONFIG.get_or_init(|| {
        morgana_tls::server_config(CHAIN, KEY, WallClock(fixed_time)).expect("the dev certificate loads")
    })
}

/// The client: `input` in pieces, then end of stream; writes vanish.
struct Client<'a> {
    input: &'a [u8],
}

impl ErrorType for Client<'_> {
    type Error = ErrorKind;
}

impl Read for Client<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let n = self.input.len().min(buf.len()).min(300);
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

impl Write for Client<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    embassy_futures::block_on(async {
        if let Ok(mut tls) = morgana_tls::accept(Client { input: data }, config()).await {
            let mut buf = [0u8; 1024];
            while let Ok(n) = tls.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
            let _ = tls.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await;
            let _ = tls.close().await;
        }
    });
});
