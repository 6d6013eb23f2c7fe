//! `morgana-hold` against echo and HTTP servers on loopback: the line it prints and its status
//! when every connection is answered, when none is answered right, and for bad arguments.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Output};

/// A server on loopback that runs `connection` on every connection, in a thread of its own.
fn serve(connection: impl Fn(TcpStream) + Clone + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind on loopback");
    let addr = listener.local_addr().expect("the listener's address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(s) = stream else { return };
            let connection = connection.clone();
            std::thread::spawn(move || connection(s));
        }
    });
    addr
}

/// An echo server on loopback; `change` is applied to what comes back.
fn echo_server(change: fn(u8) -> u8) -> SocketAddr {
    serve(move |mut s| {
        let mut buf = [0u8; 256];
        while let Ok(n @ 1..) = s.read(&mut buf) {
            let back: Vec<u8> = buf[..n].iter().map(|b| change(*b)).collect();
            if s.write_all(&back).is_err() {
                return;
            }
        }
    })
}

fn hold(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_morgana-hold"))
        .args(args)
        .output()
        .expect("morgana-hold runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_connection_answered_twice_is_status_0() {
    let addr = echo_server(|b| b).to_string();
    let out = hold(&["echo", &addr, "20"]);
    assert_eq!(
        (out.status.code(), text(&out.stdout).as_str()),
        (Some(0), "held 20 connections at once, 20 answered twice\n"),
        "stderr: {}",
        text(&out.stderr)
    );
}

#[test]
fn wrong_answers_are_counted_and_status_1() {
    let addr = echo_server(|b| b.to_ascii_uppercase()).to_string();
    let out = hold(&["echo", &addr, "5"]);
    assert_eq!(
        (out.status.code(), text(&out.stdout).as_str()),
        (Some(1), "held 5 connections at once, 0 answered twice\n")
    );
}

#[test]
fn bad_arguments_are_one_line_and_status_2() {
    let cases: [&[&str]; 6] = [
        &[],
        &["echo"],
        &["ftp", "127.0.0.1:7", "1"],
        &["echo", "localhost", "1"],
        &["echo", "127.0.0.1:7", "0"],
        &["http", "127.0.0.1:7", "1"],
    ];
    for args in cases {
        let out = hold(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("morgana-hold: "), "{args:?}: {err}");
    }
    let missing = hold(&["http", "127.0.0.1:7", "1", "/nonexistent/index.html"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("/nonexistent/index.html"));
}

/// An HTTP/1.1 keep-alive server on loopback that answers every request head with `body`.
fn http_server(body: &'static [u8]) -> SocketAddr {
    serve(move |mut s| {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while let Ok(1) = s.read(&mut byte) {
            head.push(byte[0]);
            if head.ends_with(b"\r\n\r\n") {
                head.clear();
                let reply = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                if s.write_all(reply.as_bytes())
                    .and_then(|_| s.write_all(body))
                    .is_err()
                {
                    return;
                }
            }
        }
    })
}

#[test]
fn http_bodies_are_compared_with_the_file() {
    let addr = http_server(b"<p>morgana</p>\n").to_string();
    let dir = std::env::temp_dir().join(format!("morgana-hold-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let same = dir.join("same.html");
    let other = dir.join("other.html");
    std::fs::write(&same, "<p>morgana</p>\n").expect("write a file");
    std::fs::write(&other, "<p>other</p>\n").expect("write a file");
    let run = |file: &std::path::Path| {
        let out = hold(&["http", &addr, "8", &file.to_string_lossy()]);
        (out.status.code(), text(&out.stdout))
    };
    let (good, bad) = (run(&same), run(&other));
    std::fs::remove_dir_all(&dir).expect("remove the temporary directory");
    assert_eq!(
        good,
        (
            Some(0),
            "held 8 connections at once, 8 answered twice\n".into()
        )
    );
    assert_eq!(
        bad,
        (
            Some(1),
            "held 8 connections at once, 0 answered twice\n".into()
        )
    );
}
