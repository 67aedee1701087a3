// The one writer of what Kubernetes and NFD read: a value built with serde_json, written as YAML by
// serde_norway. Node affinities for schedules and placements alike are laid out here.

use serde_json::{Value, json};

/// One `matchExpressions` entry: `key operator [values]`.
pub(crate) struct Expression<'a> {
    pub(crate) key: &'a str,
    pub(crate) operator: &'static str,
    pub(crate) values: Vec<String>,
}

/// `value` as YAML, as Kubernetes and NFD read it.
pub(crate) fn to_yaml(value: &Value) -> String {
    serde_norway::to_string(value).expect("a serde_json value is always YAML")
}

/// A Kubernetes `affinity` whose required node selector has these terms (Kubernetes ORs terms and
/// ANDs a term's expressions).
pub(crate) fn node_affinity<'a>(terms: impl IntoIterator<Item = Vec<Expression<'a>>>) -> String {
    let terms: Vec<Value> = terms
        .into_iter()
        .map(|term| {
            let expressions: Vec<Value> = term
                .into_iter()
                .map(|Expression { key, operator, values }| {
                    json!({"key": key, "operator": operator, "values": values})
                })
                .collect();
            json!({ "matchExpressions": expressions })
        })
        .collect();
    let selector = json!({ "nodeSelectorTerms": terms });
    to_yaml(
        &json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": selector}}}),
    )
}

#[cfg(test)]
mod tests {
    use platform_gate::{Arch, Os};

    use super::*;

    /// The plain (unquoted) scalars that YAML 1.1, which Kubernetes' decoder follows, reads as
    /// something other than a string: booleans, null, numbers.
    fn yaml_1_1_reads_as_a_string(plain: &str) -> bool {
        const WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ""];
        let number =
            plain.trim_start_matches(['-', '+']).starts_with(|c: char| c.is_ascii_digit() || c == '.');
        !WORDS.iter().any(|word| word.eq_ignore_ascii_case(plain)) && !number
    }

    #[test]
    fn every_value_written_reads_back_as_a_string_in_yaml_1_1() {
        let mut values: Vec<String> = Arch::ALL.iter().map(|arch| arch.go_name().to_string()).collect();
        values.extend(Os::ALL.iter().map(|os| os.go_name().to_string()));
        values.extend(["true", "0", "1", "9"].map(String::from));
        let term = vec![Expression { key: "k", operator: "In", values: values.clone() }];
        let yaml = node_affinity([term]);
        let written: Vec<&str> =
            yaml.lines().filter_map(|line| line.trim_start().strip_prefix("- ")).skip(2).collect();
        assert_eq!(written.len(), values.len(), "{yaml}");
        for (text, scalar) in values.iter().zip(written) {
            let quoted = scalar.strip_prefix('\'').and_then(|rest| rest.strip_suffix('\''));
            match quoted {
                Some(inner) => assert_eq!(inner, text),
                None => assert!(scalar == text && yaml_1_1_reads_as_a_string(scalar), "{text:?} as {scalar}"),
            }
        }
        assert!(yaml.contains("- '386'") && yaml.contains("- 'true'"), "{yaml}");
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
          values:
          - '386'
      - matchExpressions:
        - key: kubernetes.io/arch
          operator: In
          values:
          - amd64
"
        );
    }
}
