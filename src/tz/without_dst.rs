use super::*;

#[test]
fn dst_rules_are_refused_without_format_v2() {
    assert_eq!(
        TzRule::parse(b"CET-1CEST,M3.5.0,M10.5.0/3"),
        Err(TzError::DstNotBuilt)
    );
    let mut bytes = [0u8; TZ_RULE_LEN];
    bytes[..5].copy_from_slice(&[0, 60, 0, 120, 1]);
    assert_eq!(TzRule::from_bytes(&bytes), Err(TzError::DstNotBuilt));
    let fixed = TzRule::parse(b"<+0530>-5:30").unwrap();
    assert_eq!(fixed.standard_offset().minutes(), 330);
    assert_eq!(fixed.day_start(1), DAY - 330 * 60);
    assert_eq!(fixed.first_day_starting_at_or_after(DAY - 330 * 60), 1);
    assert_eq!(fixed.first_day_starting_at_or_after(DAY - 330 * 60 + 1), 2);
}
