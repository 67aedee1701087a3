// The one writer of Kubernetes node affinities, for schedules and placements alike: terms of match
// expressions, each value quoted where YAML would read it as anything but a string.

use std::fmt::Write as _;

/// One `matchExpressions` entry: `key operator [values]`.
pub(crate) struct Expression<'a> {
    pub(crate) key: &'a str,
    pub(crate) operator: &'static str,
    pub(crate) values: Vec<String>,
}

/// A Kubernetes `affinity` whose required node selector has these terms (Kubernetes ORs terms and
/// ANDs a term's expressions).
pub(crate) fn node_affinity<'a>(terms: impl IntoIterator<Item = Vec<Expression<'a>>>) -> String {
    let mut yaml = String::from(
        "affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n      nodeSelectorTerms:\n",
    );
    for term in terms {
        yaml.push_str("        - matchExpressions:\n");
        for Expression { key, operator, values } in term {
            let values: Vec<String> = values.iter().map(|value| scalar(value)).collect();
            let _ = write!(
                yaml,
                "            - key: {}\n              operator: {operator}\n              values: [{}]\n",
                scalar(key),
                values.join(", ")
            );
        }
    }
    yaml
}

/// `text` as a YAML flow scalar that reads back as the string `text`: plain where it is a word that
/// no YAML version reads as a number, a boolean or null, double-quoted otherwise. Kubernetes decodes
/// an unquoted `386` or `true` as a number or a boolean, and then refuses the list of strings.
fn scalar(text: &str) -> String {
    let word = text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
    const SPECIAL: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"];
    if word && !SPECIAL.iter().any(|special| special.eq_ignore_ascii_case(text)) {
        return text.to_string();
    }
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(quoted, "\\u{:04x}", u32::from(c));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_plain_words_or_quoted() {
        for plain in ["amd64", "ppc64le", "linux", "feature.node.kubernetes.io/cpu-cpuid.X86_64_V2"] {
            assert_eq!(scalar(plain), plain);
        }
        for (text, quoted) in [
            ("386", "\"386\""),
            ("true", "\"true\""),
            ("No", "\"No\""),
            ("0", "\"0\""),
            ("a b", "\"a b\""),
            ("a\"b\\", "\"a\\\"b\\\\\""),
            ("\n", "\"\\u000a\""),
            ("", "\"\""),
        ] {
            assert_eq!(scalar(text), quoted, "{text:?}");
        }
    }

    #[test]
    fn terms_and_expressions_are_laid_out_as_kubernetes_reads_them() {
        let term = |arch: &'static str| {
            vec![Expression { key: "kubernetes.io/arch", operator: "In", values: vec![arch.to_string()] }]
        };
        let yaml = node_affinity([term("386"), term("amd64")]);
        assert_eq!(
            yaml,
            "affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
        - matchExpressions:
            - key: kubernetes.io/arch
              operator: In
              values: [\"386\"]
        - matchExpressions:
            - key: kubernetes.io/arch
              operator: In
              values: [amd64]
"
        );
    }
}
