//! The hard-float `https-server` under nested KVM against real curl and `openssl s_client` run
//! in L1 ([`super::tools`] copies the host's): TLS 1.3 with exact bodies, keep-alive on one
//! TLS connection, TLS 1.2, and the redirect from port 80. The soft-float image gets the same checks on the host's KVM
//! (`tests/hvt/tests/tls.rs`); here the crypto crates take their AES-NI and AVX paths.
//!
//! The image embeds a store made for the lab when it is built ([`lab_certs`], by
//! `morgana-certs`, as `cargo xtask cert` makes one): a certificate for the guest's address,
//! [`ADDRESS`], whose CA the clients in L1 trust, so they check the server as they would any
//! other (`curl --cacert CA https://10.0.0.2/`). Each script prints one line per check, built
//! from the clients' own output, which the case compares exactly.

use std::path::PathBuf;
use std::sync::Mutex;

use morgana_build::baremetal::{self, Float};
use morgana_build::{Error, Profile, Result, Workspace, io_error};

use super::State;
use super::suite::{BASE, Case, Expect, TAP_DOWN, TAP_UP};

/// The package the cases boot.
const PACKAGE: &str = "https-server";

/// The guest's address on L1's tap: the one name of the lab's certificate (the scripts spell
/// it out: they are built with `concat!`).
pub const ADDRESS: &str = "10.0.0.2";

/// Where the lab's CA goes in L1.
pub const CA_IN_L1: &str = "https/ca.pem";

/// The lab's certificate store, `TARGET/kvmlab/certs` (`ca.pem`, `ca-key.pem`, `chain.pem`
/// for [`ADDRESS`], `key.pem`), made by `morgana-certs` the first time and kept, so the image
/// is not rebuilt for a new certificate at every run.
pub fn lab_certs(ws: &Workspace) -> Result<PathBuf> {
    let dir = ws.root.join(ws.target_dir()).join("kvmlab").join("certs");
    let complete = ["ca.pem", "ca-key.pem", "chain.pem", "key.pem"]
        .iter()
        .all(|f| dir.join(f).is_file());
    if !complete {
        morgana_certs::write_dir(&dir, &[ADDRESS])
            .map_err(|e| Error::Other(format!("the KVM lab's certificates: {e}")))?;
    }
    Ok(dir)
}

/// The hard-float release `https-server` with [`lab_certs`] embedded (`MORGANA_TLS_CERTS`),
/// copied to `TARGET/kvmlab/https-server.hvt`, away from the image of the default store; built
/// once per process (every case of a run boots the same image).
pub fn lab_image(ws: &Workspace) -> Result<PathBuf> {
    static BUILT: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(image) = built.as_ref() {
        return Ok(image.clone());
    }
    let certs = lab_certs(ws)?;
    let target_dir = ws.root.join(ws.target_dir());
    let hvt = baremetal::hvt(Float::Hard);
    let mut cmd = hvt.cargo_build(ws, &target_dir)?;
    cmd.env("MORGANA_TLS_CERTS", &certs).args([
        "--package",
        PACKAGE,
        "--bin",
        PACKAGE,
        "--release",
    ]);
    hvt.run_build(&mut cmd)?;
    let elf = target_dir
        .join(hvt.name)
        .join(Profile::Release.dir())
        .join(PACKAGE);
    let image = target_dir.join("kvmlab").join(format!("{PACKAGE}.hvt"));
    std::fs::copy(&elf, &image).map_err(|e| io_error(&elf, e))?;
    morgana_build::symbolize::split_debug_info(&image)?;
    *built = Some(image.clone());
    Ok(image)
}

/// The clients the scripts run.
const TOOLS: &[&str] = &["curl", "openssl"];

/// The site's files, copied into L1 (path there, path in Morgana's tree); the CA is
/// [`lab_certs`]'s, at [`CA_IN_L1`].
const FILES: &[(&str, &str)] = &[
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
/// the scripts could wait for): `c` is curl trusting the lab's CA; `get
/// PATH FILE [OPTIONS]` prints `PATH: STATUS, the bytes of FILE, PROTOCOL / CIPHER` from
/// curl's `-w` and `-v` output; `s_client FLAG PATH FILE` sends one request with openssl and
/// prints its summary's protocol, cipher and verification, and whether the response ends
/// with FILE's bytes.
macro_rules! script {
    ($body:expr) => {
        concat!(
            r#"c() { curl -s -m 30 --cacert /https/ca.pem "$@"; }
get() {
  p=$1; f=$2; shift 2
  code=$(c -v -o /tmp/body -w '%{http_code}' "$@" "https://10.0.0.2$p" 2>/tmp/verbose)
  if cmp -s /tmp/body "/https/site/$f"; then same="the bytes of $f"; else same="NOT the bytes of $f"; fi
  echo "$p: $code, $same, $(sed -n 's/^\* SSL connection using //p' /tmp/verbose)"
}
s_client() {
  printf 'GET %s HTTP/1.1\r\nHost: 10.0.0.2\r\nConnection: close\r\n\r\n' "$2" |
    openssl s_client -brief "$1" -connect 10.0.0.2:443 -verify_ip 10.0.0.2 \
      -CAfile /https/ca.pem -verify_return_error -ign_eof \
      >/tmp/response 2>/tmp/summary
  st=$?
  if tail -c "$(wc -c <"/https/site/$3")" /tmp/response | cmp -s - "/https/site/$3"; then
    same="ends with the bytes of $3"; else same="does NOT end with the bytes of $3"; fi
  echo "openssl $1: status $st, $(head -n 1 /tmp/response | tr -d '\r'), $same"
  grep -E '^(Protocol version|Ciphersuite|Verification):' /tmp/summary
}
for i in $(seq 1 60); do c -o /dev/null https://10.0.0.2/ && break; sleep 1; done
"#,
            $body,
            "touch /tmp/stopped; kill $GUEST_PID\n"
        )
    };
}

/// A case of `https-server` named NAME with DURING as its script and L1 as its exact L1
/// output, booted with ARGS (default: the address only) and printing LINE when up (a macro:
/// the expectations must be a constant).
macro_rules! case {
    ($name:expr, $during:expr, $l1:expr $(,)?) => {
        case!(
            $name,
            $during,
            $l1,
            &["--ipv4=10.0.0.2/24"],
            "https-server: 3 files, port 443"
        )
    };
    ($name:expr, $during:expr, $l1:expr, $args:expr, $line:expr $(,)?) => {
        Case {
            name: $name,
            package: PACKAGE,
            lab_certs: true,
            options: &["--mem=64", "--net:service=tap0"],
            args: $args,
            setup: Some(TAP_UP),
            during: Some($during),
            after: Some(TAP_DOWN),
            tools: TOOLS,
            files: FILES,
            end: State::Stopped,
            expect: &[Expect::Line($line, ""), Expect::L1($l1)],
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
               https://10.0.0.2/ https://10.0.0.2/css/site.css 2>/tmp/verbose\n\
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

/// `--redirect-port=80`: plain HTTP answered with 301 to the same URL over HTTPS (exact head),
/// followed by curl to the exact file over TLS; no `Host`, 400.
pub const REDIRECT: Case = case!(
    "https-server-redirect",
    script!(
        "curl -s -m 30 -D - -o /dev/null 'http://10.0.0.2/css/site.css?v=2' | tr -d '\\r' | grep -v '^$'\n\
         c -L -o /tmp/body -w '%{http_code} %{num_redirects} %{url_effective}\\n' \
           http://10.0.0.2/css/site.css\n\
         cmp -s /tmp/body /https/site/css/site.css && echo 'followed: the bytes of css/site.css'\n\
         echo \"no Host: $(curl -s -m 30 -o /dev/null -w '%{http_code}' -H 'Host:' http://10.0.0.2/)\"\n"
    ),
    &[
        "HTTP/1.1 301 Moved Permanently",
        "Server: morgana",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Length: 22",
        "Location: https://10.0.0.2/css/site.css?v=2",
        "Connection: close",
        "200 1 https://10.0.0.2/css/site.css",
        "followed: the bytes of css/site.css",
        "no Host: 400",
    ],
    &["--ipv4=10.0.0.2/24", "--redirect-port=80"],
    "https-server: 3 files, port 443, redirect from port 80",
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
        for c in [&TLS13, &KEEP_ALIVE, &TLS12, &REDIRECT] {
            let during = c.during.unwrap();
            assert!(during.starts_with("c() {"), "{}", c.name);
            assert!(during.ends_with("touch /tmp/stopped; kill $GUEST_PID\n"));
        }
    }
}
