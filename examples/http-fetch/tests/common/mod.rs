//! The HTTP answers the fetch tests serve, over a tap and over the host's own TCP/IP.

/// Fixed responses by request path.
pub fn response(path: &str) -> Vec<u8> {
    match path {
        "/data" => {
            let body: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
            [format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes(), &body].concat()
        }
        "/chunked" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n".to_vec(),
        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found".to_vec(),
    }
}
