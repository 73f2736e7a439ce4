//! How the docs print figures (shared by the tests that check them).

/// Groups digits by three with a space, as the docs do: `8 770`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `x` in scientific notation with `decimals` digits after the point, as
/// the docs print it: `4.6·10⁻²`.
pub fn sci(x: f64, decimals: usize) -> String {
    let mut exp = x.log10().floor() as i32;
    let mut mantissa = x / 10f64.powi(exp);
    if format!("{mantissa:.decimals$}").starts_with("10") {
        mantissa /= 10.0;
        exp += 1;
    }
    let sup: String = exp
        .to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            d => ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹']
                [d.to_digit(10).unwrap_or(0) as usize],
        })
        .collect();
    format!("{mantissa:.decimals$}·10{sup}")
}
