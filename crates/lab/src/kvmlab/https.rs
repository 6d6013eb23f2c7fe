//! The hard-float `https-server` under nested KVM against real curl and `openssl s_client` run
//! in L1 ([`super::tools`] copies the host's): TLS 1.3 with exact bodies, keep-alive on one
//! TLS connection, and TLS 1.2. The soft-float image gets the same checks on the host's KVM
//! (`tests/hvt/tests/tls.rs`); here the crypto crates take their AES-NI and AVX paths.
//!
//! The image embeds the development store (`examples/https-server/certs`: a certificate for
//! localhost): the clients trust its CA and reach the guest at 10.0.0.2 under the name
//! localhost (`curl --resolve`, `s_client -servername`). Each script prints one line per check,
//! built from the clients' own output, which the case compares exactly.

use super::State;
use super::suite::{BASE, Case, Expect, TAP_DOWN, TAP_UP};

/// The clients the scripts run.
const TOOLS: &[&str] = &["curl", "openssl"];

/// The CA and the site's files, copied into L1 (path there, path in Morgana's tree).
const FILES: &[(&str, &str)] = &[
    ("https/ca.pem", "examples/https-server/certs/ca.pem"),
    (
        "https/site/index.html",
        "examples/http-server/htdocs/index.html",
    ),
    (
        "https/site/css/site.css",
        "examples/http-server/htdocs/css/site.css",
    ),
    (
        "https/site/img/logo.png",
        "examples/http-server/htdocs/img/logo.png",
    ),
];

/// Shell functions for the scripts, and a wait until the server answers (it prints nothing
/// the scripts could wait for): `c` is curl trusting the CA with localhost at the guest; `get
/// PATH FILE [OPTIONS]` prints `PATH: STATUS, the bytes of FILE, PROTOCOL / CIPHER` from
/// curl's `-w` and `-v` output; `s_client FLAG PATH FILE` sends one request with openssl and
/// prints its summary's protocol, cipher and verification, and whether the response ends
/// with FILE's bytes.
macro_rules! script {
    ($body:expr) => {
        concat!(
            r#"c() { curl -s -m 30 --cacert /https/ca.pem --resolve localhost:443:10.0.0.2 "$@"; }
get() {
  p=$1; f=$2; shift 2
  code=$(c -v -o /tmp/body -w '%{http_code}' "$@" "https://localhost$p" 2>/tmp/verbose)
  if cmp -s /tmp/body "/https/site/$f"; then same="the bytes of $f"; else same="NOT the bytes of $f"; fi
  echo "$p: $code, $same, $(sed -n 's/^\* SSL connection using //p' /tmp/verbose)"
}
s_client() {
  printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$2" |
    openssl s_client -brief "$1" -connect 10.0.0.2:443 -servername localhost \
      -verify_hostname localhost -CAfile /https/ca.pem -verify_return_error -ign_eof \
      >/tmp/response 2>/tmp/summary
  st=$?
  if tail -c "$(wc -c <"/https/site/$3")" /tmp/response | cmp -s - "/https/site/$3"; then
    same="ends with the bytes of $3"; else same="does NOT end with the bytes of $3"; fi
  echo "openssl $1: status $st, $(head -n 1 /tmp/response | tr -d '\r'), $same"
  grep -E '^(Protocol version|Ciphersuite|Verification):' /tmp/summary
}
for i in $(seq 1 60); do c -o /dev/null https://localhost/ && break; sleep 1; done
"#,
            $body,
            "touch /tmp/stopped; kill $GUEST_PID\n"
        )
    };
}

/// A case of `https-server` named NAME with DURING as its script and L1 as its exact L1
/// output (a macro: the expectations must be a constant).
macro_rules! case {
    ($name:expr, $during:expr, $l1:expr $(,)?) => {
        Case {
            name: $name,
            package: "https-server",
            options: &["--mem=64", "--net:service=tap0"],
            args: &["--ipv4=10.0.0.2/24"],
            setup: Some(TAP_UP),
            during: Some($during),
            after: Some(TAP_DOWN),
            tools: TOOLS,
            files: FILES,
            end: State::Stopped,
            expect: &[
                Expect::Line("https-server: 3 files, port 443", ""),
                Expect::L1($l1),
            ],
            ..BASE
        }
    };
}

/// TLS 1.3: three files by curl, one by `openssl s_client -tls1_3`.
pub const TLS13: Case = case!(
    "https-server-tls13",
    script!(
        "get / index.html\nget /css/site.css css/site.css\nget /img/logo.png img/logo.png\n\
             s_client -tls1_3 /img/logo.png img/logo.png\n"
    ),
    &[
        "/: 200, the bytes of index.html, TLSv1.3 / TLS_AES_256_GCM_SHA384",
        "/css/site.css: 200, the bytes of css/site.css, TLSv1.3 / TLS_AES_256_GCM_SHA384",
        "/img/logo.png: 200, the bytes of img/logo.png, TLSv1.3 / TLS_AES_256_GCM_SHA384",
        "openssl -tls1_3: status 0, HTTP/1.1 200 OK, ends with the bytes of img/logo.png",
        "Protocol version: TLSv1.3",
        "Ciphersuite: TLS_AES_256_GCM_SHA384",
        "Verification: OK",
    ],
);

/// Keep-alive: two URLs in one curl, the second request over the first one's TLS connection.
pub const KEEP_ALIVE: Case = case!(
    "https-server-keep-alive",
    script!(
        "c -v -o /tmp/a -o /tmp/b -w '%{http_code} %{num_connects}\\n' \
               https://localhost/ https://localhost/css/site.css 2>/tmp/verbose\n\
             cmp -s /tmp/a /https/site/index.html && echo 'first: the bytes of index.html'\n\
             cmp -s /tmp/b /https/site/css/site.css && echo 'second: the bytes of css/site.css'\n\
             echo \"handshakes: $(grep -c '^\\* SSL connection using TLSv1.3' /tmp/verbose)\"\n\
             grep -o '^\\* Re-using existing connection' /tmp/verbose\n"
    ),
    &[
        "200 1",
        "200 0",
        "first: the bytes of index.html",
        "second: the bytes of css/site.css",
        "handshakes: 1",
        "* Re-using existing connection",
    ],
);

/// TLS 1.2: curl limited to it, and `openssl s_client -tls1_2`.
pub const TLS12: Case = case!(
    "https-server-tls12",
    script!(
        "get / index.html --tlsv1.2 --tls-max 1.2\n\
             s_client -tls1_2 /css/site.css css/site.css\n"
    ),
    &[
        "/: 200, the bytes of index.html, TLSv1.2 / ECDHE-ECDSA-AES256-GCM-SHA384",
        "openssl -tls1_2: status 0, HTTP/1.1 200 OK, ends with the bytes of css/site.css",
        "Protocol version: TLSv1.2",
        "Ciphersuite: ECDHE-ECDSA-AES256-GCM-SHA384",
        "Verification: OK",
    ],
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_exists_and_every_script_stops_the_server() {
        let root = morgana_build::morgana_root();
        for (_, file) in FILES {
            assert!(root.join(file).is_file(), "{file}");
        }
        for c in [&TLS13, &KEEP_ALIVE, &TLS12] {
            let during = c.during.unwrap();
            assert!(during.starts_with("c() {"), "{}", c.name);
            assert!(during.ends_with("touch /tmp/stopped; kill $GUEST_PID\n"));
        }
    }
}
