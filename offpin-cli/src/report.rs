//! `offpin report`: the security table of the shipped profiles, and for
//! each format-v2 profile its figures with and without each v2 kind.

use offpin::profile::shipped;
use offpin::security::SecurityFigures;
use offpin::{FormatVersion, Profile, Tag};
use offpin_ledger::ledger::LedgerError;

use crate::output::{CliResult, say};

/// Tuya's BLE offline PINs, for reference: radix 10, 10 digits, decimal
/// fields (type digit + 5 digits of start hour + 4 digits of duration), so
/// with 24 h activation every 4-digit duration of the 24 start hours that
/// can still activate is acceptable at once: W ≈ 24 × 10 000.
const TUYA_W: u64 = 240_000;
const TUYA_DOMAIN: u64 = 10_000_000_000;

fn sci(x: f64) -> String {
    if x == 0.0 {
        "0".to_owned()
    } else {
        format!("{x:.2e}")
    }
}

/// The service codes' weight next to `W`, or `-`.
fn service_w(s: &SecurityFigures) -> String {
    s.service.map_or_else(
        || "-".to_owned(),
        |v| format!("{:.1}", v.w_equivalent(s.domain)),
    )
}

fn row(p: &Profile) -> String {
    let s = p.security();
    let k = s.max_by_kind;
    format!(
        "{:<15} {:>6} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>6} {:>8} {:>8} {:>10} {:>7} {:>10}",
        p.name(),
        p.digits(),
        sci(s.domain as f64),
        k.hourly,
        k.daily,
        k.one_time,
        k.ongoing,
        k.recurring,
        k.clock_set,
        s.remembered,
        s.w_max,
        service_w(&s),
        sci(s.per_attempt()),
        s.attempts_per_day,
        sci(s.per_year()),
    )
}

/// America/Santiago's rule (2026): its autumn change turns the clock back
/// from 24:00 to 23:00, over midnight.
const SANTIAGO: &[u8] = b"<-04>4<-03>,M9.1.6/24,M4.1.6/24";

/// The variants of a v2 profile: everything, then without each v2 kind,
/// then without any (its v1 fields under the v2 label).
fn variants(p: &Profile) -> Vec<(String, Profile)> {
    let mut out = vec![("all v2 kinds".to_owned(), *p)];
    let mut none = *p;
    for (tag, what) in [
        (Tag::Recurring, "recurring codes"),
        (Tag::ClockCodes, "clock-setting codes"),
        (Tag::ServiceCodes, "service codes"),
    ] {
        if let Ok(q) = p.without(tag)
            && q != *p
        {
            out.push((format!("without {what}"), q));
        }
        if let Ok(q) = none.without(tag) {
            none = q;
        }
    }
    out.push(("without any v2 kind".to_owned(), none));
    out
}

/// `standard-10` on a lock with each capability of issue 19 (a crate
/// feature on the lock), with the first three at once, and with code
/// rules: (what, profile, keys). PINs are `|S|` with code rules.
fn capabilities() -> Vec<(&'static str, Profile, u32)> {
    let base = shipped::STANDARD_10;
    let p = base.params();
    let with = |params| Profile::new(params).ok();
    let anti_peep = with(offpin::ProfileParams {
        entry_max_digits: 16,
        ..p
    });
    let ttlock = with(offpin::ProfileParams {
        format: FormatVersion::V2,
        radix: offpin::Radix::Seven,
        digits: 11,
        ..p
    });
    let all = with(offpin::ProfileParams {
        format: FormatVersion::V2,
        radix: offpin::Radix::Seven,
        digits: 11,
        entry_max_digits: 17,
        ..p
    });
    // Code rules (the hosted API's cannot_start_with_12 and
    // no_triple_consecutive_ints): the same grants over |S| PINs; on a
    // nine-key keypad (no_zeros) with 11 digits too.
    let rules = offpin::ProfileParams {
        format: FormatVersion::V2,
        code_rules: offpin::CodeRules::ALL,
        ..p
    };
    let code_rules = with(rules);
    let nine_rules = with(offpin::ProfileParams {
        radix: offpin::Radix::Nine,
        digits: 11,
        ..rules
    });
    let mut out = vec![("as shipped (one key)", base, 1)];
    out.push(("a group member (2 keys)", base, 2));
    out.extend(anti_peep.map(|q| ("anti-peep, 16 keys (7 positions)", q, 1)));
    out.extend(ttlock.map(|q| ("keys 1–7 (radix 7, 11 digits)", q, 1)));
    out.extend(all.map(|q| ("all three (2 keys, radix 7, 17-key entry)", q, 2)));
    out.extend(code_rules.map(|q| ("code rules: not `12…`, no triples (10 digits)", q, 1)));
    out.extend(nine_rules.map(|q| ("keys 1–9 and both rules (11 digits)", q, 1)));
    out
}

/// Prints the capabilities' table.
fn capability_table() -> CliResult {
    say!("");
    say!("standard-10 on a lock with each capability (a crate feature on the lock):");
    say!("(PINs: the strings that keep the profile's code rules, |S|; radix^n without rules)");
    say!(
        "  {:<46} {:>8} {:>9} {:>5} {:>10} {:>7} {:>10}",
        "lock",
        "W_max",
        "PINs",
        "pos.",
        "p/attempt",
        "tries/d",
        "p/year"
    );
    for (what, q, keys) in capabilities() {
        let s = q.security_with_keys(keys);
        say!(
            "  {:<46} {:>8} {:>9} {:>5} {:>10} {:>7} {:>10}",
            what,
            s.w_max,
            sci(s.domain as f64),
            s.positions,
            sci(s.per_attempt()),
            s.attempts_per_day,
            sci(s.per_year())
        );
    }
    Ok(())
}

/// Runs `offpin report`: the table of `profile` (every shipped profile
/// when `None`, with Tuya's for reference), each format-v2 profile with
/// and without each of its kinds, and (for every profile) the lock
/// capabilities' table.
pub fn run(profile: Option<&str>) -> CliResult {
    let profiles: Vec<Profile> = match profile {
        Some(name) => vec![
            shipped::by_name(name).ok_or_else(|| LedgerError::UnknownProfile {
                name: name.to_owned(),
            })?,
        ],
        None => shipped::ALL.to_vec(),
    };
    profiles_table(&profiles, profile.is_none())?;
    for p in profiles.iter().filter(|p| p.format() == FormatVersion::V2) {
        kinds_table(p)?;
    }
    if profile.is_none() {
        capability_table()?;
        say!("");
        say!("Tuya reference: 24 start hours x 10 000 decimal durations, 48-bit key entropy.");
    }
    Ok(())
}

/// One row per profile (and Tuya's with `tuya`), then what the columns
/// mean.
fn profiles_table(profiles: &[Profile], tuya: bool) -> CliResult {
    say!(
        "Security of one random PIN attempt (W = acceptable indices at the worst instant, one key):"
    );
    say!("");
    say!(
        "{:<15} {:>6} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>6} {:>8} {:>8} {:>10} {:>7} {:>10}",
        "profile",
        "digits",
        "PINs",
        "W hourly",
        "W daily",
        "W 1-time",
        "W ongo.",
        "W recur.",
        "W clock",
        "remem.",
        "W_max",
        "svc W-eq",
        "p/attempt",
        "tries/d",
        "p/year"
    );
    for p in profiles {
        say!("{}", row(p));
    }
    if tuya {
        say!(
            "{:<15} {:>6} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>6} {:>8} {:>8} {:>10} {:>7} {:>10}",
            "tuya (ref.)",
            10,
            sci(TUYA_DOMAIN as f64),
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            TUYA_W,
            "-",
            sci(TUYA_W as f64 / TUYA_DOMAIN as f64),
            "-",
            "-"
        );
    }
    say!("");
    say!("W_max includes the codes the lock remembers as activated (remem.) and the clock-setting");
    say!("codes that would move its clock; it is the maximum of their sum, at most the sum of the");
    say!("kind columns. svc W-eq: the rolling service codes' chance per attempt, in W's units;");
    say!(
        "p/attempt = (W_max + svc W-eq) / PINs. tries/d, p/year: the most failed entries the guess"
    );
    say!("budget lets through in any 24 hours, and the union bound over any 365 days.");
    Ok(())
}

/// A format-v2 profile with and without each of its kinds, and its bound
/// on a DST rule.
fn kinds_table(p: &Profile) -> CliResult {
    say!("");
    say!("{} with and without each format-v2 kind:", p.name());
    say!(
        "  {:<28} {:>8} {:>10} {:>8} {:>7} {:>10} {:>10}",
        "variant",
        "W_max",
        "p/attempt",
        "svc share",
        "tries/d",
        "p/day",
        "p/year"
    );
    let line = |what: &str, s: &offpin::SecurityFigures| -> CliResult {
        say!(
            "  {:<28} {:>8} {:>10} {:>7.2}% {:>7} {:>10} {:>10}",
            what,
            s.w_max,
            sci(s.per_attempt()),
            100.0 * s.service_share(),
            s.attempts_per_day,
            sci(s.per_day()),
            sci(s.per_year())
        );
        Ok(())
    };
    for (what, q) in variants(p) {
        line(&what, &q.security())?;
    }
    // Under a DST rule the count is bounded by the kinds' own maxima (a
    // change back over midnight pairs the new day's daily windows with the
    // old day's recurring hours): Santiago's, for example.
    if let Some(s) = offpin::tz::TzRule::parse(SANTIAGO)
        .ok()
        .and_then(|rule| p.security_under(&rule, 1))
    {
        line("all, on a DST rule (bound)", &s)?;
    }
    Ok(())
}
