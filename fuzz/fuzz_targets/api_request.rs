//! Arbitrary bytes as a request to `offpin serve`: the first byte picks
//! the endpoint and where the parameters go, the rest is split into a
//! query string and a body. Decoding ([`offpin_cli::request::decode`])
//! and parsing never panic; an error names at most one field and says
//! something; and whatever decodes as a create request parses into a kind
//! that agrees with its times (ongoing without times, one-time with a
//! start and no end, time-bound with an end after its start).

#![no_main]

use libfuzzer_sys::fuzz_target;
use offpin_cli::request::{
    CreateRequest, DecodeError, DeleteRequest, DeviceGetRequest, DeviceListRequest, GetRequest,
    ListRequest, UpdateRequest, decode,
};
use offpin_ledger::ledger::CodeWant;

fn sane(e: &DecodeError) {
    assert!(!e.message.is_empty(), "an error without a message: {e:?}");
    if let Some(f) = &e.field {
        assert!(!f.is_empty() && f.len() < 10_000, "{e:?}");
    }
}

fn check<T: serde::de::DeserializeOwned>(query: Option<&str>, body: &[u8], then: impl Fn(T)) {
    match decode::<T>(query, body) {
        Ok(v) => then(v),
        Err(e) => sane(&e),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    // Split at the first 0xff: query before, body after.
    let (q, body) = match rest.iter().position(|b| *b == 0xff) {
        Some(i) => (
            rest.get(..i).unwrap_or_default(),
            rest.get(i + 1..).unwrap_or_default(),
        ),
        None => (rest, &[][..]),
    };
    let query = std::str::from_utf8(q).ok();
    let (query, body) = if mode & 0x80 == 0 {
        (query, body)
    } else {
        (None, rest)
    };
    match mode % 7 {
        0 => check::<CreateRequest>(query, body, |r| match r.parse() {
            Ok(c) => match c.want().expect("parse checked the kind") {
                CodeWant::Ongoing => assert!(c.starts_at.is_none() && c.ends_at.is_none()),
                CodeWant::OneTime { starts_at } => {
                    assert!(
                        c.is_one_time_use && c.ends_at.is_none() && c.starts_at == Some(starts_at)
                    )
                }
                // The times as given: an end not after the start is the
                // issuer's to refuse (400 naming ends_at), not the decoder's.
                CodeWant::TimeBound { starts_at, ends_at } => assert!(
                    !c.is_one_time_use
                        && c.starts_at == Some(starts_at)
                        && c.ends_at == Some(ends_at)
                ),
                CodeWant::Recurring {
                    starts_at,
                    ends_at,
                    days,
                    hours,
                } => assert!(
                    !c.is_one_time_use
                        && c.starts_at == Some(starts_at)
                        && c.ends_at == Some(ends_at)
                        && c.recurrence == Some((days, hours))
                ),
                CodeWant::ClockSet { at } => assert!(
                    c.sets_clock_to == Some(at) && c.starts_at.is_none() && c.ends_at.is_none()
                ),
            },
            Err(e) => assert!(!e.to_string().is_empty()),
        }),
        1 => check::<ListRequest>(query, body, |_| {}),
        2 => check::<GetRequest>(query, body, |r| {
            let _ = r.by();
        }),
        3 => check::<DeleteRequest>(query, body, |_| {}),
        4 => check::<UpdateRequest>(query, body, |r| {
            let _ = r.parse();
        }),
        5 => check::<DeviceGetRequest>(query, body, |_| {}),
        _ => check::<DeviceListRequest>(query, body, |_| {}),
    }
});
