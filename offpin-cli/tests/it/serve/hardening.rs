//! `offpin serve` against slow and hostile clients (issue 20, point 2):
//! header and idle timeouts, a bounded stop, the failed-authentication
//! throttle, JSON errors for over-size heads, object bodies.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::util::http::{agent, codes_of, get, post, send};
use crate::util::serve::{Fixture, Server};

fn connect(server: &Server) -> TcpStream {
    let addr = server.base.trim_start_matches("http://");
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// Reads until the server closes the connection (EOF or reset); returns
/// what it sent.
fn read_to_close(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&got).into_owned(),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// A client that sends a header line every 300 ms, one that connects and
/// sends nothing, and a kept-alive connection left idle after an answer
/// are all closed once the header timeout (1 s here) passes; meanwhile
/// fifty such clients do not keep a real request from being answered.
#[test]
fn slow_idle_and_silent_connections_are_closed_after_the_header_timeout() {
    let fx = Fixture::sqlite();
    let server = fx.start(&["--header-timeout-secs", "1"]);
    let mut crowd: Vec<TcpStream> = (0..50).map(|_| connect(&server)).collect();
    for c in &mut crowd {
        c.write_all(b"GET /health HTTP/1.1\r\n").unwrap();
    }
    let a = agent();
    let started = Instant::now();
    let health = send(&a, "GET", &server.url("/health"), None, None).unwrap();
    assert_eq!(health.status, 200);
    assert!(started.elapsed() < Duration::from_secs(5));

    let started = Instant::now();
    let mut slow = connect(&server);
    slow.write_all(b"GET /health HTTP/1.1\r\n").unwrap();
    let mut lines_sent = 0;
    while lines_sent < 20 {
        std::thread::sleep(Duration::from_millis(300));
        if slow.write_all(b"X-Slow: 1\r\n").is_err() {
            break;
        }
        lines_sent += 1;
    }
    assert!(lines_sent < 15, "the slow client sent {lines_sent} lines");
    let _ = read_to_close(&mut slow);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );

    let started = Instant::now();
    let mut silent = connect(&server);
    read_to_close(&mut silent);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );

    let mut idle = connect(&server);
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let started = Instant::now();
    let answered = read_to_close(&mut idle);
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    for mut c in crowd {
        read_to_close(&mut c);
    }
}

/// SIGTERM with a client holding a half-sent request (and a header
/// timeout far away): the server exits within its grace (1 s here).
#[test]
fn a_stop_is_bounded_by_the_grace_even_with_a_slow_client() {
    let fx = Fixture::sqlite();
    let server = fx.start(&["--header-timeout-secs", "60", "--shutdown-grace-secs", "1"]);
    let mut slow = connect(&server);
    slow.write_all(b"POST /access_codes/list HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// A flood of wrong keys from one address is answered 429 after its
/// burst, with `Retry-After`, without a ledger read; a client at the same
/// address with a key the server verified goes on being served.
#[test]
fn failed_authentications_are_throttled_per_address() {
    let fx = Fixture::sqlite();
    let server = fx.start(&[
        "--key-cache-secs",
        "60",
        "--auth-failure-rate",
        "1",
        "--auth-failure-burst",
        "10",
    ]);
    let a = agent();
    let url = server.url("/devices/list");
    assert_eq!(
        send(&a, "GET", &url, Some(&fx.key), None).unwrap().status,
        200
    );
    let (mut unauthorized, mut throttled) = (0, 0);
    for i in 0..300 {
        let r = send(&a, "GET", &url, Some(&format!("seam_wrong{i}")), None).unwrap();
        match r.status {
            401 => unauthorized += 1,
            429 => {
                assert_eq!(r.error_type(), "too_many_failed_authentications");
                throttled += 1;
            }
            other => panic!("{other}: {r:?}"),
        }
        if i % 50 == 0 {
            let ok = send(&a, "GET", &url, Some(&fx.key), None).unwrap();
            assert_eq!(ok.status, 200, "the good key at {i}: {ok:?}");
        }
    }
    assert!(
        (10..=20).contains(&unauthorized),
        "{unauthorized} answered 401"
    );
    assert_eq!(unauthorized + throttled, 300);
    // No key at all counts as a failure too.
    let none = send(&a, "GET", &url, None, None).unwrap();
    assert_eq!(none.status, 429);
}

/// A URI over 8 KiB and headers over 16 KiB are answered 414 and 431 in
/// the API's JSON error shape.
#[test]
fn over_size_uris_and_headers_get_json_errors() {
    let fx = Fixture::sqlite();
    let server = fx.start(&[]);
    let a = agent();
    let long = format!("/access_codes/list?device_id={}", "a".repeat(9_000));
    let r = get(&a, &server, &fx.key, &long);
    assert_eq!((r.status, r.error_type()), (414, "uri_too_long"), "{r:?}");
    let r = a
        .get(&server.url("/health"))
        .set("X-Large", &"b".repeat(20_000))
        .call();
    let r = match r {
        Err(ureq::Error::Status(_, r)) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(r.status(), 431);
    let body: serde_json::Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
    assert_eq!(body["error"]["type"], "request_header_fields_too_large");
}

/// A JSON array in place of an object is refused, not read by position;
/// nothing is stored.
#[test]
fn request_bodies_must_be_objects() {
    let fx = Fixture::sqlite();
    let server = fx.start(&[]);
    let a = agent();
    let body = json!(["front-door", "2040-09-01T15:00:00Z", "2040-09-04T11:00:00Z"]);
    let r = post(&a, &server, &fx.key, "/access_codes/create", &body);
    assert_eq!((r.status, r.error_type()), (400, "invalid_input"), "{r:?}");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("JSON object")
    );
    assert!(codes_of(&a, &server, &fx.key, "front-door").is_empty());
}
