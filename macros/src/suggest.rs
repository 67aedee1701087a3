// "Did you mean": the closest known word to a mistyped one, for compile errors that say the fix.

/// The candidate closest to `word`, if it is close enough to be what was meant.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|candidate| (distance(&word, &candidate.to_ascii_lowercase()), candidate))
        .filter(|&(distance, candidate)| {
            distance <= 2.max(candidate.len() / 3)
                || (word.len() >= 3 && candidate.to_ascii_lowercase().starts_with(&word))
        })
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance, counting an adjacent transposition as one edit (`stabel` → `stable`).
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut table = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in table.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in table[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = table[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let mut best = substitution.min(table[i - 1][j] + 1).min(table[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(table[i - 2][j - 2] + 1);
            }
            table[i][j] = best;
        }
    }
    table[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_near_misses_and_prefixes_only() {
        let archs = ["amd64", "x86_64", "arm64", "aarch64", "s390x"];
        assert_eq!(closest("aarch46", archs), Some("aarch64"));
        assert_eq!(closest("ARM46", archs), Some("arm64"));
        assert_eq!(closest("sparc", archs), None);
        let args = ["env", "matrix", "check", "allow", "exit_code", "crate"];
        assert_eq!(closest("exit", args), Some("exit_code"));
        assert_eq!(closest("alow", args), Some("allow"));
        assert_eq!(closest("variable", args), None);
    }
}
