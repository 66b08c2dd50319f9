//! Numbers for people: three significant digits, plain notation between 1e-3 and 1e4,
//! otherwise e-notation with a three-digit mantissa (`5.50e23`), the same everywhere on
//! screen.

/// `v` with three significant digits: plain between 1e-3 and 1e4 (`0.697`, `1.55`,
/// `1250`), e-notation outside (`5.50e23`, `1.20e-5`), `-` for NaN.
pub fn number(v: f64) -> String {
    significant(v, 3)
}

/// `v` with `digits` significant digits, as [`number`] does it.
pub fn significant(v: f64, digits: usize) -> String {
    if v.is_nan() {
        return "-".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return "0".into();
    }
    let digits = digits.max(1);
    let a = v.abs();
    if (1e-3..1e4).contains(&a) {
        // Decimals so that `digits` significant digits show (after rounding).
        let exponent = a.log10().floor() as i32;
        let mut decimals = (digits as i32 - 1 - exponent).max(0) as usize;
        let mut text = format!("{v:.decimals$}");
        // Rounding may carry into a new digit (9.995 -> 10.00): one decimal fewer then.
        let rounded: f64 = text.parse().unwrap_or(v);
        if rounded.abs() >= 10f64.powi(exponent + 1) && decimals > 0 {
            decimals -= 1;
            text = format!("{v:.decimals$}");
        }
        trim_zeros(text, decimals > 0 && digits > 3)
    } else {
        let text = format!("{:.*e}", digits - 1, v);
        text.replace("e0", "").replace("e-0", "e-")
    }
}

/// Trailing zeros after the decimal point are kept (they are significant) unless asked.
fn trim_zeros(text: String, trim: bool) -> String {
    if !trim || !text.contains('.') {
        return text;
    }
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A share between 0 and 1 as a percentage with one decimal (`97.5%`).
pub fn percent(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1}%", 100.0 * v)
    } else {
        "-".into()
    }
}

/// A duration in seconds as `m:ss`.
pub fn clock(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "-".into();
    }
    let s = seconds.round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_significant_digits_plain_in_the_middle_e_notation_outside() {
        assert_eq!(number(0.6966), "0.697");
        assert_eq!(number(1.5547), "1.55");
        assert_eq!(number(5.4996e23), "5.50e23");
        assert_eq!(number(-146.7), "-147");
        assert_eq!(number(1250.0), "1250");
        assert_eq!(number(9999.0), "9999");
        assert_eq!(number(12345.0), "1.23e4");
        assert_eq!(number(0.001), "0.00100");
        assert_eq!(number(0.00099), "9.90e-4");
        assert_eq!(number(1.2e-5), "1.20e-5");
        assert_eq!(number(9.996), "10.0");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(f64::NAN), "-");
        assert_eq!(number(1.0), "1.00");
        assert_eq!(significant(0.123456, 5), "0.12346");
        assert_eq!(percent(0.975), "97.5%");
        assert_eq!(clock(95.4), "1:35");
    }
}
