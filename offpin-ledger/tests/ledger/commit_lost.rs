//! The PostgreSQL ledger when its connection is lost in the middle of a
//! batch, on a real database (`OFFPIN_TEST_POSTGRES`) through a TCP proxy
//! that cuts the connection at a chosen message: after the `COMMIT`
//! reached the server (the code is stored, the client never hears it),
//! instead of the `COMMIT` (nothing is stored), or before it (at the
//! transaction-id query). The ledger must answer each time with the truth:
//! the code it stored, exactly once, or `OutcomeUnknown` naming the code
//! that the retry with the same idempotency key then returns.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;
use offpin_ledger::ledger::postgres::PostgresLedger;

/// The simple-query message `COMMIT` (what `Transaction::commit` sends).
const COMMIT: &[u8] = b"Q\x00\x00\x00\x0bCOMMIT\x00";
/// The text of the query that reads the transaction's id before it.
const TXID: &[u8] = b"SELECT txid_current()";

/// What the proxy does with the connections it relays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Relays everything.
    Pass,
    /// At the first client message containing `needle`: relays it to the
    /// server if `forward` (then waits for the server to act on it), and
    /// cuts the connection before any answer reaches the client; then
    /// goes on as `then`.
    Cut {
        needle: &'static [u8],
        forward: bool,
        then: Next,
    },
    /// Closes every new connection at once (the database is unreachable).
    Down,
}

/// The mode after a cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    Pass,
    Down,
}

struct Proxy {
    addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    cuts: Arc<Mutex<u32>>,
}

impl Proxy {
    fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(Mutex::new(Mode::Pass));
        let cuts = Arc::new(Mutex::new(0));
        let (m, c) = (Arc::clone(&mode), Arc::clone(&cuts));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if *m.lock().unwrap() == Mode::Down {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                relay(client, server, Arc::clone(&m), Arc::clone(&c));
            }
        });
        Proxy { addr, mode, cuts }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn cuts(&self) -> u32 {
        *self.cuts.lock().unwrap()
    }
}

/// Relays one connection both ways, cutting it as the mode says.
fn relay(client: TcpStream, server: TcpStream, mode: Arc<Mutex<Mode>>, cuts: Arc<Mutex<u32>>) {
    let cut = Arc::new(AtomicBool::new(false));
    let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let (mut s_in, mut c_out) = (server, client);
    let cut_up = Arc::clone(&cut);
    // Client to server: watches for the needle.
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        loop {
            let n = match c_in.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            let hit = {
                let mut m = mode.lock().unwrap();
                match *m {
                    Mode::Cut {
                        needle,
                        forward,
                        then,
                    } if chunk.windows(needle.len()).any(|w| w == needle) => {
                        *m = match then {
                            Next::Pass => Mode::Pass,
                            Next::Down => Mode::Down,
                        };
                        Some(forward)
                    }
                    _ => None,
                }
            };
            if let Some(forward) = hit {
                *cuts.lock().unwrap() += 1;
                // No answer goes back from now on (the first one closes
                // the client's side).
                cut_up.store(true, Ordering::SeqCst);
                if forward {
                    let _ = s_out.write_all(chunk);
                    // Time for the server to act on it.
                    std::thread::sleep(Duration::from_millis(300));
                }
                let _ = c_in.shutdown(Shutdown::Both);
                let _ = s_out.shutdown(Shutdown::Both);
                break;
            }
            if s_out.write_all(chunk).is_err() {
                break;
            }
        }
        let _ = s_out.shutdown(Shutdown::Both);
    });
    // Server to client, unless cut.
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        loop {
            let n = match s_in.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if cut.load(Ordering::SeqCst) || c_out.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = c_out.shutdown(Shutdown::Both);
    });
}

/// A fresh ledger schema reached through a proxy, with its devices; the
/// URL to reach it directly.
fn through_proxy() -> Option<(Proxy, PostgresLedger, String)> {
    let direct = super::postgres_backend::fresh_url()?;
    let config: postgres::Config = direct.parse().unwrap();
    let host = match &config.get_hosts()[0] {
        postgres::config::Host::Tcp(h) => h.clone(),
        #[cfg(unix)]
        postgres::config::Host::Unix(_) => {
            eprintln!("OFFPIN_TEST_POSTGRES is a Unix socket: the proxy needs TCP; skipped");
            return None;
        }
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let upstream: SocketAddr = format!("{host}:{port}").parse().unwrap();
    let proxy = Proxy::start(upstream);
    let via = direct.replacen(&format!("{host}:{port}"), &proxy.addr.to_string(), 1);
    assert_ne!(via, direct, "the URL names its host and port");
    let mut l = PostgresLedger::connect(&via).unwrap();
    setup(&mut l);
    Some((proxy, l, direct))
}

/// The codes stored for `lock-a`, read on a connection of its own.
fn stored(direct: &str) -> Vec<String> {
    let mut l = PostgresLedger::connect(direct).unwrap();
    l.find(&ListFilter {
        device_id: Some("lock-a".into()),
        ..ListFilter::default()
    })
    .unwrap()
    .into_iter()
    .map(|c| c.access_code_id)
    .collect()
}

#[test]
fn a_commit_whose_answer_is_lost_returns_the_stored_code_once() {
    let Some((proxy, mut l, direct)) = through_proxy() else {
        return;
    };
    proxy.set(Mode::Cut {
        needle: COMMIT,
        forward: true,
        then: Next::Pass,
    });
    let spec = window().with_idempotency_key("after-commit");
    let issued = l.issue(&master(), &spec, now()).unwrap();
    assert_eq!(proxy.cuts(), 1, "the COMMIT's answer was cut");
    assert!(issued.created);
    // The one stored, the one answered: not issued again after the cut.
    assert_eq!(
        stored(&direct),
        std::slice::from_ref(&issued.record.access_code_id)
    );
    assert_eq!(
        codec(&mut l, "lock-a")
            .decode_input(issued.record.code.as_bytes())
            .unwrap()
            .variance(),
        0
    );
    // The ledger goes on, on its new connection.
    let again = l.issue(&master(), &spec, now()).unwrap();
    assert!(!again.created);
    assert_eq!(again.record.access_code_id, issued.record.access_code_id);
}

#[test]
fn a_commit_that_never_reached_the_server_is_tried_again_and_stored_once() {
    let Some((proxy, mut l, direct)) = through_proxy() else {
        return;
    };
    for needle in [COMMIT, TXID] {
        proxy.set(Mode::Cut {
            needle,
            forward: false,
            then: Next::Pass,
        });
        let before = stored(&direct).len();
        let issued = l.issue(&master(), &window(), now()).unwrap();
        assert!(issued.created);
        let after = stored(&direct);
        assert_eq!(after.len(), before + 1, "one code stored");
        assert_eq!(after.last(), Some(&issued.record.access_code_id));
    }
    assert_eq!(proxy.cuts(), 2);
}

#[test]
fn an_unreachable_database_after_a_lost_commit_is_an_unknown_outcome_that_a_retry_resolves() {
    let Some((proxy, mut l, direct)) = through_proxy() else {
        return;
    };
    proxy.set(Mode::Cut {
        needle: COMMIT,
        forward: true,
        then: Next::Down,
    });
    let spec = window().with_idempotency_key("unknown");
    let started = Instant::now();
    let e = l.issue(&master(), &spec, now()).unwrap_err();
    let waited = started.elapsed();
    let LedgerError::OutcomeUnknown {
        access_code_ids, ..
    } = &e
    else {
        panic!("{e}");
    };
    assert_eq!(e.code(), "outcome_unknown");
    assert!(e.to_string().contains("idempotency key"), "{e}");
    // It asked for a few seconds, no longer.
    assert!(waited < Duration::from_secs(15), "{waited:?}");
    // It was stored: the code the error names.
    assert_eq!(&stored(&direct), access_code_ids);
    proxy.set(Mode::Pass);
    // The ledger's connection is lost for good (a pool drops it): the
    // retry comes on a new one, as on another server.
    assert!(l.is_closed());
    let mut l = PostgresLedger::connect(&direct).unwrap();
    let retry = l.issue(&master(), &spec, now()).unwrap();
    assert!(!retry.created, "the retry finds the stored code");
    assert_eq!(access_code_ids, &[retry.record.access_code_id]);
    assert_eq!(stored(&direct).len(), 1);
}
