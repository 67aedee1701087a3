//! Which CPU features `main`'s crate was compiled to assume, read where the attribute expands.
//!
//! This runs on every build of the user's crate, the rebuild after each edit included, so it is
//! written for rustc's sake:
//! - as text that rustc lexes at once (`proc_macro::TokenStream::from_str`). Built token by token,
//!   its 1,700 tokens cost 2.7 million instructions of proc-macro bridge calls alone, and
//!   proc-macro2's `from_str` first checks the text with its own lexer, compiled unoptimised in a
//!   debug build: 10 million more;
//! - as `#[cfg]`d statements rather than `cfg!` calls, each a macro to resolve and expand and an
//!   array element to type-check: a `#[cfg]` that does not hold is only dropped;
//! - with a shortcut for the build almost every user makes, one that raises no CPU feature: one
//!   `cfg` tells it apart, the flags are then all false, and the statements are never expanded.
//!
//! An older compiler does not know every name (Rust 1.85 knows fewer than 1.95): there the `cfg`
//! does not hold, and must not warn in the user's crate.

use crate::names::cpu::{AARCH64_FEATURES, X86_FEATURES};

fn rows() -> impl Iterator<Item = &'static str> {
    X86_FEATURES.iter().chain(&AARCH64_FEATURES).map(|feature| feature.name)
}

/// The text of a `[bool; N]` expression, one per row of the runtime's CPU feature tables (x86,
/// then aarch64): true where `target_feature = "..."` holds in the crate it expands in.
///
/// The local's name cannot be one of the user's constants (a `let` cannot shadow a constant).
pub fn each_row() -> String {
    let count = rows().count();
    // The lint level is an attribute on a statement, the outer `let`, around the others.
    let mut text = format!(
        "{{ #[allow(unexpected_cfgs)] let __platform_gate_assumed = {{ \
         let mut __platform_gate_assumed = [false; {count}];"
    );
    for (row, name) in rows().enumerate() {
        text += &format!(" #[cfg(target_feature = \"{name}\")] {{ __platform_gate_assumed[{row}] = true; }}");
    }
    text += " __platform_gate_assumed }; __platform_gate_assumed }";
    text
}

/// The same value as [`each_row`], for the attribute: all false where no row holds (no build
/// that raises nothing holds one: each target's baseline, such as x86_64's SSE2 or aarch64's
/// NEON, is not a row), else `PRIVATE::target_feature_flags!()`, which is [`each_row`],
/// expanded only then. The two constants are items of a module in a block, which nothing of the
/// user's can clash with, and whose lint level covers both `cfg`s.
pub fn shortcut(private: &str) -> String {
    let count = rows().count();
    let mut any_row = String::from("any(");
    for name in rows() {
        // Both tables name a few features: `any` takes them twice.
        any_row += &format!("target_feature = \"{name}\", ");
    }
    any_row += ")";
    format!(
        "{{ #[allow(unexpected_cfgs)] mod assumed {{ \
         #[cfg(not({any_row}))] pub(super) const FLAGS: [bool; {count}] = [false; {count}]; \
         #[cfg({any_row})] pub(super) const FLAGS: [bool; {count}] = {private}::target_feature_flags!(); \
         }} assumed::FLAGS }}"
    )
}

/// `text` as tokens: lexed by rustc while a macro expands, else by proc-macro2 (in unit tests).
pub fn tokens(text: &str) -> proc_macro2::TokenStream {
    if proc_macro::is_available() {
        let tokens: proc_macro::TokenStream = text.parse().expect("the flags expression is valid Rust");
        tokens.into()
    } else {
        text.parse().expect("the flags expression is valid Rust")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_one_cfg_statement_in_table_order() {
        let text = each_row();
        let names: Vec<_> = rows().collect();
        assert_eq!(text.matches("cfg(target_feature").count(), names.len());
        for (row, name) in names.iter().enumerate() {
            let statement =
                format!("#[cfg(target_feature = \"{name}\")] {{ __platform_gate_assumed[{row}] = true; }}");
            assert!(text.contains(&statement), "{statement} in {text}");
        }
        assert!(!tokens(&text).is_empty());
    }

    #[test]
    fn the_shortcut_is_taken_only_where_no_row_holds() {
        let text = shortcut(":: pg :: __private");
        // Every row is named in both conditions, once each.
        for name in rows() {
            let rows_named = rows().filter(|row| *row == name).count();
            assert_eq!(
                text.matches(&format!("target_feature = \"{name}\"")).count(),
                2 * rows_named,
                "{name}"
            );
        }
        let count = rows().count();
        assert!(text.contains(&format!("#[cfg(not(any(target_feature = \"{}\", ", rows().next().unwrap())));
        assert!(text.contains(&format!("const FLAGS: [bool; {count}] = [false; {count}];")));
        assert!(text.contains("= :: pg :: __private::target_feature_flags!();"));
        assert!(!tokens(&text).is_empty());
    }
}
