//! A server's life: it refuses to start with another master key, its
//! logs hold no PIN or key, SIGTERM finishes the requests in flight.

use serde_json::{Value, json};

use crate::util::http::{agent, delete, get, post, send, window};
use crate::util::serve::Fixture;
use crate::util::{command, fingerprint};

/// A server refuses to start with a master key other than the ledger's,
/// naming both fingerprints: the key the first device was registered
/// with, though no code was issued yet (issue 17, point 5: the first
/// server or issue used to bind it), on SQLite and PostgreSQL.
#[test]
fn a_server_with_another_master_key_does_not_start() {
    let fixtures = [Some(Fixture::sqlite()), Fixture::postgres()];
    for fx in fixtures.iter().flatten() {
        let key = |name: &str| fingerprint(&fx.dir.path().join(name));
        let other = fx.dir.path().join("other.key");
        let run = |args: &[&str]| {
            command(fx.dir.path(), &["--ledger", &fx.ledger, "--master-key"])
                .arg(&other)
                .args(args)
                .output()
                .unwrap()
        };
        assert!(run(&["keygen"]).status.success());
        let out = run(&["serve", "--listen", "127.0.0.1:0"]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr,
            format!(
                "error: this ledger belongs to the master key with fingerprint {}, not to the key given (fingerprint {}): codes derived from it would never open (check --master-key / $OFFPIN_MASTER_KEY_FILE)\n",
                key("master.key"),
                key("other.key")
            )
        );
        assert!(out.stdout.is_empty(), "it never listened");
        // The ledger's key serves; its code opens the lock provisioned
        // from that key.
        let server = fx.start(&[]);
        let a = post(
            &agent(),
            &server,
            &fx.key,
            "/access_codes/create",
            &json!({ "device_id": "front-door" }),
        );
        assert_eq!(a.status, 200, "{a:?}");
        let pin = a.body["access_code"]["code"].as_str().unwrap();
        let lock_key = fx
            .master_key("master.key")
            .derive_device_key(b"front-door", 0)
            .unwrap();
        let lock = offpin::Codec::new(&lock_key, offpin::profile::shipped::STANDARD_10).unwrap();
        assert_eq!(
            lock.decode_input(pin.as_bytes()).unwrap(),
            offpin::Grant::Ongoing { slot: 0 }
        );
        assert!(server.terminate().success());
    }
}

/// The log of a run that creates, reads and deletes codes holds neither a
/// PIN nor the key.
#[test]
fn request_logs_never_contain_a_pin_or_a_key() {
    let fx = Fixture::sqlite();
    let server = fx.start(&[]);
    let a = agent();
    let mut secrets = vec![fx.key.clone()];
    let (start, end) = window(5, 30);
    for body in [
        json!({"device_id": "front-door", "starts_at": start, "ends_at": end}),
        json!({"device_id": "back-door", "starts_at": start, "is_one_time_use": true}),
        json!({"device_id": "front-door"}),
    ] {
        let r = post(&a, &server, &fx.key, "/access_codes/create", &body);
        let code = r.body["access_code"]["code"].as_str().unwrap().to_owned();
        let id = r.body["access_code"]["access_code_id"]
            .as_str()
            .unwrap()
            .to_owned();
        // The PIN in a query string and in an error path.
        get(
            &a,
            &server,
            &fx.key,
            &format!("/access_codes/get?device_id=front-door&code={code}"),
        );
        get(
            &a,
            &server,
            &fx.key,
            &format!("/access_codes/get?code={code}"),
        );
        let d = delete(
            &a,
            &server,
            &fx.key,
            &format!("/access_codes/delete?access_code_id={id}"),
        );
        if let Some(rev) = d.body["revocation_code"].as_str() {
            secrets.push(rev.to_owned());
        }
        secrets.push(code);
    }
    // A wrong key is not logged either.
    let wrong = format!("{}1", &fx.key[..fx.key.len() - 1]);
    send(&a, "GET", &server.url("/devices/list"), Some(&wrong), None).unwrap();
    secrets.push(wrong);
    let status = server.terminate();
    assert!(status.success());
    let log = std::fs::read_to_string(
        fx.dir
            .path()
            .read_dir()
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "log"))
            .unwrap(),
    )
    .unwrap();
    assert!(log.contains("/access_codes/create"), "the log logs: {log}");
    assert!(log.contains("key=\"tests\""), "{log}");
    assert_eq!(secrets.len(), 6);
    for s in &secrets {
        assert!(!log.contains(s.as_str()), "{s} in the log");
        // Nor the secret half of a key.
        if let Some((_, secret)) = s.rsplit_once('_') {
            assert!(!log.contains(secret));
        }
    }
}

/// SIGTERM while creates are in flight: every request is answered (or was
/// never accepted), the server exits 0, the ledger holds exactly the
/// codes answered 200.
#[test]
fn sigterm_finishes_the_requests_in_flight() {
    let fx = Fixture::sqlite();
    let server = fx.start(&["--rate-limit", "0"]);
    let url = server.url("/access_codes/create");
    let key = fx.key.clone();
    let senders: Vec<_> = (0..16)
        .map(|i| {
            let url = url.clone();
            let key = key.clone();
            std::thread::spawn(move || {
                let a = agent();
                let mut answers = Vec::new();
                for j in 0..200 {
                    // A window of its own per request.
                    let (start, end) = window(30 + 200 * i + j, 2);
                    let body =
                        json!({"device_id": "back-door", "starts_at": start, "ends_at": end});
                    match send(
                        &a,
                        "POST",
                        &url,
                        Some(&key),
                        Some(body.to_string().as_bytes()),
                    ) {
                        Ok(r) => answers.push(r),
                        Err(_) => break,
                    }
                }
                answers
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    let answers: Vec<_> = senders
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert!(!answers.is_empty());
    let ok: Vec<&Value> = answers
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| &r.body)
        .collect();
    let statuses: std::collections::BTreeSet<u16> = answers.iter().map(|r| r.status).collect();
    assert_eq!(ok.len(), answers.len(), "only 200s: {statuses:?}");
    assert!(
        answers.len() < 16 * 200,
        "SIGTERM came while creates were in flight"
    );
    let listed = fx.run(&["list", "--device-id", "back-door"]);
    let listed: Vec<Value> = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.len(), ok.len());
}
