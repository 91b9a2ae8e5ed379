//! RFC 8785 JSON Canonicalization Scheme (JCS): the byte-exact form that is hashed for
//! deterministic SCO ids and signed in federation statements.

use serde_json::Value;

/// Serialises `v` in RFC 8785 canonical form: object members sorted by UTF-16 code units,
/// no insignificant whitespace, ECMAScript number formatting, minimal string escaping.
pub fn canonical_json(v: &Value) -> String {
    // A `Value` holds no non-finite numbers and its keys are strings, so this cannot fail.
    serde_json_canonicalizer::to_string(v).expect("a serde_json::Value always canonicalises")
}

#[cfg(test)]
mod tests {
    use super::canonical_json;
    use serde_json::json;

    #[test]
    fn rfc8785_section_3_2_2_example() {
        // The numbers, string and literals example of RFC 8785 section 3.2.2.
        let input: serde_json::Value = serde_json::from_str(
            r#"{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
                "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
                "literals": [null, true, false]}"#,
        )
        .unwrap();
        let expected = concat!(
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"#,
            "\"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}"
        );
        assert_eq!(canonical_json(&input), expected);
    }

    #[test]
    fn rfc8785_section_3_2_3_sorts_by_utf16_code_units() {
        let input: serde_json::Value = serde_json::from_str(
            r#"{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
                "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}"#,
        )
        .unwrap();
        let expected = concat!(
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",",
            "\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",",
            "\"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        );
        assert_eq!(canonical_json(&input), expected);
    }

    #[test]
    fn rfc8785_number_serialisation_samples() {
        // From RFC 8785 appendix B: IEEE-754 values and their canonical text.
        for (input, want) in [
            ("0", "0"),
            ("-0", "0"),
            ("5e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("9007199254740992", "9007199254740992"),
            ("295147905179352830000", "295147905179352830000"),
            ("1e+21", "1e+21"),
            ("0.000001", "0.000001"),
            ("1e-7", "1e-7"),
        ] {
            let v: serde_json::Value = serde_json::from_str(input).unwrap();
            assert_eq!(canonical_json(&json!([v])), format!("[{want}]"), "{input}");
        }
    }
}
