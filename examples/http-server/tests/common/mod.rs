//! The answers http-server gives whatever its network: shared by the tests over a tap and
//! over the host's own TCP/IP, so both check the very same bytes.

/// The file `path` of the site as built into the image.
pub fn htdocs(path: &str) -> Vec<u8> {
    let file = format!("{}/htdocs/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Runs curl with the given arguments; returns (exit status, stdout).
pub type Curl<'a> = &'a dyn Fn(&[&str]) -> (i32, Vec<u8>);

/// Checks files, types, keep-alive, `HEAD`, 404, 405 and 431 at `base` (`http://HOST[:PORT]`)
/// with `curl`, which runs curl with the given arguments and returns (exit status, stdout).
pub fn check_site(curl: Curl<'_>, base: &str) {
    for (path, file) in [
        ("/", "index.html"),
        ("/css/site.css", "css/site.css"),
        ("/img/logo.png", "img/logo.png"),
    ] {
        let (code, body) = curl(&[&format!("{base}{path}")]);
        assert_eq!((code, body), (0, htdocs(file)), "{path}");
    }

    // Four URLs on one command line: one connection, reused (keep-alive).
    let fmt = "%{http_code} %{num_connects} %{content_type} %{size_download}\\n";
    let urls: Vec<String> = ["/", "/css/site.css", "/img/logo.png", "/missing.html"]
        .iter()
        .map(|p| format!("{base}{p}"))
        .collect();
    let mut args = vec![
        "-o",
        "/dev/null",
        "-o",
        "/dev/null",
        "-o",
        "/dev/null",
        "-o",
        "/dev/null",
        "-w",
        fmt,
    ];
    args.extend(urls.iter().map(String::as_str));
    let (code, out) = curl(&args);
    assert_eq!(code, 0);
    assert_eq!(
        String::from_utf8_lossy(&out),
        format!(
            "200 1 text/html; charset=utf-8 {}\n200 0 text/css; charset=utf-8 {}\n200 0 image/png {}\n404 0 text/plain; charset=utf-8 14\n",
            htdocs("index.html").len(),
            htdocs("css/site.css").len(),
            htdocs("img/logo.png").len()
        )
    );

    let (_, head) = curl(&["-I", &format!("{base}/css/site.css")]);
    assert_eq!(
        String::from_utf8_lossy(&head),
        format!(
            "HTTP/1.1 200 OK\r\nServer: morgana\r\nContent-Type: text/css; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            htdocs("css/site.css").len()
        )
    );
    let (_, out) = curl(&["-X", "POST", "-w", "%{http_code}", &format!("{base}/")]);
    assert_eq!(String::from_utf8_lossy(&out), "405 Method Not Allowed\n405");
    let (_, out) = curl(&["-w", "%{http_code}", &format!("{base}/nope")]);
    assert_eq!(String::from_utf8_lossy(&out), "404 Not Found\n404");
    let big = format!("X-Big: {}", "a".repeat(9000));
    let (_, out) = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        &big,
        &format!("{base}/"),
    ]);
    assert_eq!(String::from_utf8_lossy(&out), "431");
}
