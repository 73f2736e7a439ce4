//! A small HTTP client for the `offpin serve` tests (ureq), and what they
//! compare: answers, windows from now, records at rest.

use std::io::Read;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::Value;

use super::serve::Server;

/// An answer: status and JSON body (`Null` when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    /// The `Allow` header (a 405 lists the route's methods).
    pub allow: Option<String>,
}

impl Answer {
    pub fn error_type(&self) -> &str {
        self.body["error"]["type"].as_str().unwrap_or("")
    }
}

pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build()
}

fn answer(r: Result<ureq::Response, ureq::Error>) -> Result<Answer, String> {
    let resp = match r {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => return Err(e.to_string()),
    };
    let status = resp.status();
    let allow = resp.header("allow").map(str::to_owned);
    let mut text = String::new();
    resp.into_reader()
        .take(10_000_000)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    Ok(Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        allow,
    })
}

/// Sends `method url` with an optional bearer key and raw body; `Err` when
/// no answer came (connection refused or reset).
pub fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    key: Option<&str>,
    body: Option<&[u8]>,
) -> Result<Answer, String> {
    send_with(agent, method, url, key, &[], body)
}

/// [`send`] with more headers.
pub fn send_with(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Answer, String> {
    let mut req = agent.request(method, url);
    for (name, value) in headers {
        req = req.set(name, value);
    }
    if let Some(k) = key {
        req = req.set("Authorization", &format!("Bearer {k}"));
    }
    answer(match body {
        Some(b) => req.set("Content-Type", "application/json").send_bytes(b),
        None => req.call(),
    })
}

pub fn post(agent: &ureq::Agent, server: &Server, key: &str, path: &str, body: &Value) -> Answer {
    send(
        agent,
        "POST",
        &server.url(path),
        Some(key),
        Some(body.to_string().as_bytes()),
    )
    .unwrap()
}

/// `GET path` with the key and no body.
pub fn get(agent: &ureq::Agent, server: &Server, key: &str, path: &str) -> Answer {
    send(agent, "GET", &server.url(path), Some(key), None).unwrap()
}

/// `DELETE path` with the key and no body.
pub fn delete(agent: &ureq::Agent, server: &Server, key: &str, path: &str) -> Answer {
    send(agent, "DELETE", &server.url(path), Some(key), None).unwrap()
}

/// A window `days` days from now, on hour boundaries, `hours` long.
pub fn window(days: i64, hours: i64) -> (String, String) {
    let start = (Utc::now() + TimeDelta::days(days))
        .duration_trunc(TimeDelta::hours(1))
        .unwrap();
    let end: DateTime<Utc> = start + TimeDelta::hours(hours);
    (start.to_rfc3339(), end.to_rfc3339())
}

/// Every code of a device (deleted ones included), through the API.
pub fn codes_of(agent: &ureq::Agent, server: &Server, key: &str, device: &str) -> Vec<Value> {
    let a = post(
        agent,
        server,
        key,
        "/access_codes/list",
        &serde_json::json!({ "device_id": device }),
    );
    assert_eq!(a.status, 200, "{a:?}");
    a.body["access_codes"].as_array().unwrap().clone()
}

/// A record without the times of its warnings and errors, which say when
/// it was read (records are computed at read time).
pub fn at_rest(record: &Value) -> Value {
    let mut r = record.clone();
    for list in ["warnings", "errors"] {
        if let Some(entries) = r.get_mut(list).and_then(Value::as_array_mut) {
            for e in entries {
                if let Some(o) = e.as_object_mut() {
                    o.remove("created_at");
                }
            }
        }
    }
    r
}
