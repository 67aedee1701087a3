//! The procedural macros of [platform-gate](https://docs.rs/platform-gate): `#[platform_gated]`
//! and the engine behind `matrix!`. Depend on `platform-gate`, which re-exports them; this crate
//! holds no policy, only the parsing, the checks that make mistakes compile errors, and the call.

#![forbid(unsafe_code)]

use proc_macro::TokenStream;

// The spelling tables: `names` is a symlink to the runtime's `src/names`, which `cargo package`
// follows, so `matrix!` accepts exactly the names the runtime parses. The runtime cannot be a
// dependency of this crate, since it depends on this one. Only the parsing half is used here.
#[allow(dead_code)]
mod names;

mod args;
mod cpu_flags;
mod error;
mod main_fn;
mod matrix;
mod suggest;
mod tokens;

// Documented where users read it: on `platform_gate::platform_gated`, whose intra-doc links reach
// the runtime's types. Rustdoc joins a re-export's docs with the original's, so this crate's own
// sentence is only there when this crate itself is documented (`cfg(doc)`), not in what the
// runtime inherits.
#[cfg_attr(
    doc,
    doc = "`#[platform_gated]` is documented, and re-exported, by [platform-gate](https://docs.rs/platform-gate): depend on that crate."
)]
#[allow(missing_docs)]
#[proc_macro_attribute]
pub fn platform_gated(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = args::Args::parse(args.into());
    let main = main_fn::MainFn::parse(item.clone().into());
    match tokens::both(args, main) {
        Ok((args, main)) => main.with_call(args.gate_call()).into(),
        Err(error) => {
            // The user's item as written, beside the errors: one mistake, one error, and the
            // rest of the crate still compiles against `main`.
            let mut output: TokenStream = error.to_compile_error().into();
            output.extend(item);
            output
        }
    }
}

/// The flags of the crate it expands in, row by row ([`cpu_flags::each_row`]); what the
/// attribute expands to where its shortcut is not taken, and what the command's tests build
/// their gates with.
#[doc(hidden)]
#[proc_macro]
pub fn target_feature_flags(_: TokenStream) -> TokenStream {
    cpu_flags::tokens(&cpu_flags::each_row()).into()
}

/// The engine behind `platform_gate::matrix!`, which passes the runtime's path first:
/// `$crate; ROWS`.
#[doc(hidden)]
#[proc_macro]
pub fn matrix_with_crate_path(input: TokenStream) -> TokenStream {
    match matrix::expand(input.into()) {
        Ok(matrix) => matrix.into(),
        Err(error) => {
            // `matrix!` stands where an expression goes, and several `compile_error!`s in a row
            // are not one: a block of them is, and has whatever type the context wants.
            let mut errors = error.to_compile_errors();
            let last = errors.pop();
            quote::quote!({ #(#errors;)* #last }).into()
        }
    }
}
