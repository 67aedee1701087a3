// The arguments of `#[platform_gated(...)]`: parsed from tokens, each checked where it is written so
// that every mistake gets its own spanned error, and all of them are reported together.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::{LitInt, LitStr};

use crate::error::Error;

use crate::cpu_flags;
use crate::names::policy::{ALLOWS, CHECKS};
use crate::names::{is_portable_variable_name, nearest_portable_variable_name};
use crate::suggest::closest;
use crate::tokens::{Errors, split_on};

const ARGUMENTS: [&str; 6] = ["env", "matrix", "check", "allow", "exit_code", "crate"];

/// The checked arguments, each already in the form the generated call needs.
#[derive(Default)]
pub struct Args {
    /// The path to the runtime crate: `::platform_gate` unless renamed.
    krate: Option<TokenStream>,
    variable: Option<LitStr>,
    matrix: Option<TokenStream>,
    check: Option<TokenStream>,
    allow: Option<TokenStream>,
    exit_code: Option<LitInt>,
}

impl Args {
    pub fn parse(input: TokenStream) -> Result<Args, Error> {
        let mut args = Args::default();
        let mut seen: Vec<String> = Vec::new();
        let mut errors = Errors::default();
        for argument in split_on(input, ',') {
            let mut tokens = argument.into_iter();
            let key = match tokens.next() {
                Some(TokenTree::Ident(key)) => key,
                Some(other) => {
                    errors.push(Error::new_spanned([other], "expected an argument such as `env = \"NAME\"`"));
                    continue;
                }
                None => continue, // a trailing comma
            };
            let name = key.to_string();
            if !ARGUMENTS.contains(&name.as_str()) {
                let message = match closest(&name, ARGUMENTS) {
                    Some(fix) => format!("unknown argument `{name}`; did you mean `{fix}`?"),
                    None => format!(
                        "unknown argument `{name}`; the arguments are `env`, `matrix`, `check`, `allow`, `exit_code` and `crate`"
                    ),
                };
                errors.push(Error::new(key.span(), message));
                continue;
            }
            if seen.contains(&name) {
                errors.push(Error::new(key.span(), format!("duplicate argument `{name}`")));
                continue;
            }
            seen.push(name.clone());
            match tokens.next() {
                Some(TokenTree::Punct(eq)) if eq.as_char() == '=' => {}
                _ => {
                    errors
                        .push(Error::new(key.span(), format!("`{name}` needs a value: {}", example(&name))));
                    continue;
                }
            }
            let value: TokenStream = tokens.collect();
            if value.is_empty() {
                errors.push(Error::new(key.span(), format!("`{name}` needs a value: {}", example(&name))));
                continue;
            }
            if let Err(error) = args.set(&name, value) {
                errors.push(error);
            }
        }
        errors.finish(args)
    }

    fn set(&mut self, name: &str, value: TokenStream) -> Result<(), Error> {
        match name {
            "env" => self.variable = Some(variable(value)?),
            "matrix" => {
                self.matrix = Some(path(
                    value,
                    "`matrix` takes the path of a `const` Matrix, such as `matrix = SUPPORT`",
                )?)
            }
            "check" => {
                let check = one_of(value, "check", &CHECKS)?;
                let variant = if check.value() == CHECKS[0] { quote!(Arch) } else { quote!(Platform) };
                self.check = Some(quote_spanned!(check.span()=> #variant));
            }
            "allow" => {
                let allow = one_of(value, "allow", &ALLOWS)?;
                let variant = if allow.value() == ALLOWS[0] { quote!(Stable) } else { quote!(Experimental) };
                self.allow = Some(quote_spanned!(allow.span()=> #variant));
            }
            "exit_code" => self.exit_code = Some(exit_code(value)?),
            "crate" => {
                let krate = string(
                    value,
                    "`crate` takes the runtime crate's path as a string, such as `crate = \"pg\"`",
                )?;
                let path = respan(krate.value().parse().unwrap_or_default(), krate.span());
                if !is_path(&path) {
                    let message = format!(
                        "`crate = {:?}` is not a path; write the crate's name, such as `crate = \"pg\"`",
                        krate.value()
                    );
                    return Err(Error::new(krate.span(), message));
                }
                self.krate = Some(path);
            }
            _ => unreachable!("`{name}` was checked against ARGUMENTS"),
        }
        Ok(())
    }

    /// The one call that goes at the top of `main`.
    pub fn gate_call(&self) -> TokenStream {
        let krate = self.krate.clone().unwrap_or_else(|| quote!(::platform_gate));
        let private = quote!(#krate::__private);
        // Spanned at the path, so that a wrong type is reported there and not on the whole attribute.
        let matrix = self.matrix.as_ref().map(|matrix| {
            let span = matrix.clone().into_iter().next().map_or_else(Span::call_site, |token| token.span());
            quote_spanned!(span=> .with_matrix(#matrix))
        });
        let mut policy = TokenStream::new();
        if let Some(check) = &self.check {
            policy.extend(quote!(.with_check(#private::Check::#check)));
        }
        if let Some(allow) = &self.allow {
            policy.extend(quote!(.with_allow(#private::Allow::#allow)));
        }
        if let Some(code) = self.exit_code.as_ref().map(LitInt::token) {
            policy.extend(quote!(.with_exit_code(#private::exit_code(#code))));
        }
        // The program's name and, unless `env` names it, the variable's come from Cargo. A build
        // without Cargo (Bazel, Buck, plain rustc) works when the variable is named; otherwise
        // `env!` stops it with a message that says how.
        let gate = match self.variable.as_ref().map(LitStr::token) {
            Some(name) => quote! {
                #private::Gate::new(
                    #private::program_name(
                        ::core::option_env!("CARGO_BIN_NAME"),
                        ::core::option_env!("CARGO_PKG_NAME"),
                        ::core::module_path!(),
                    ),
                    #name,
                )
            },
            None => quote! {
                #private::Gate::for_package(
                    ::core::env!(
                        "CARGO_PKG_NAME",
                        "#[platform_gated] names the override variable after the Cargo package, and this build has none; name it yourself: #[platform_gated(env = \"APP_UNSUPPORTED_ARCH\")]"
                    ),
                    ::core::option_env!("CARGO_BIN_NAME"),
                )
            },
        };
        // One call, given the gate's constant and its manifest: a static whose length is a
        // constant computed first, so that the bytes are built by `const` evaluation in this
        // crate, with its flags and version. Items inside a block cannot clash with the user's.
        // What the call branches on goes in as const generic arguments, so that even an
        // unoptimised build compiles only the branches taken (see `enforce`).
        let assumed = cpu_flags::tokens(&cpu_flags::shortcut(&private.to_string()));
        quote! {
            {
                const PREPARED: #private::Prepared = #private::prepare(
                    #gate #matrix #policy,
                    ::core::module_path!(),
                    &#assumed,
                    ::core::option_env!("CARGO_PKG_VERSION"),
                );
                static MANIFEST: [u8; PREPARED.manifest_len()] = PREPARED.manifest();
                #private::enforce::<{ PREPARED.checks_cpu() }, { PREPARED.passes_by_itself() }>(&PREPARED, &MANIFEST);
            }
        }
    }
}

fn example(name: &str) -> &'static str {
    match name {
        "env" => "`env = \"APP_UNSUPPORTED_ARCH\"`",
        "matrix" => "`matrix = SUPPORT`, the path of a `const` Matrix",
        "check" => "`check = \"arch\"` or `check = \"platform\"`",
        "allow" => "`allow = \"stable\"` or `allow = \"experimental\"`",
        "exit_code" => "`exit_code = 3`, from 1 to 255",
        _ => "`crate = \"pg\"`, the runtime crate's name in Cargo.toml",
    }
}

/// A value that must be a single string literal.
fn string(value: TokenStream, expected: &str) -> Result<LitStr, Error> {
    syn::parse2::<LitStr>(value.clone()).map_err(|_| Error::new_spanned(value, expected))
}

fn variable(value: TokenStream) -> Result<LitStr, Error> {
    let name = string(
        value,
        "`env` takes the variable's name as a string, such as `env = \"APP_UNSUPPORTED_ARCH\"`",
    )?;
    let text = name.value();
    if is_portable_variable_name(&text) {
        return Ok(name);
    }
    let problem = if text.is_empty() {
        "`env` is empty: name the variable operators set, such as `env = \"APP_UNSUPPORTED_ARCH\"`".to_owned()
    } else {
        format!(
            "`env = \"{}\"` is not a name every shell and supervisor can set: use ASCII letters, digits and `_`, \
             not starting with a digit; did you mean `{}`?",
            text.escape_default(),
            nearest_portable_variable_name(&text)
        )
    };
    Err(Error::new(name.span(), problem))
}

fn one_of(value: TokenStream, name: &str, choices: &[&'static str]) -> Result<LitStr, Error> {
    let choice = string(value, &format!("`{name}` takes a string: {}", example(name)))?;
    let text = choice.value();
    if choices.contains(&text.as_str()) {
        return Ok(choice);
    }
    let options = format!("\"{}\" or \"{}\"", choices[0], choices[1]);
    let message = match (name, closest(&text, choices.iter().copied())) {
        ("allow", _) if text == "unstable" => {
            "`allow = \"unstable\"` would start everywhere the matrix lists; allow \"stable\" or \"experimental\", \
             and let operators opt in to unstable platforms with the variable"
                .to_owned()
        }
        (_, Some(fix)) => format!("unknown {name} {text:?}; did you mean \"{fix}\"?"),
        (_, None) => format!("unknown {name} {text:?}; expected {options}"),
    };
    Err(Error::new(choice.span(), message))
}

fn exit_code(value: TokenStream) -> Result<LitInt, Error> {
    let code = syn::parse2::<LitInt>(value.clone()).map_err(|_| {
        Error::new_spanned(value, "`exit_code` takes an integer from 1 to 255, such as `exit_code = 3`")
    })?;
    match code.base10_parse::<u64>() {
        Ok(0) => Err(Error::new(
            code.span(),
            "`exit_code = 0` would report success; a refusal exits with 1 to 255",
        )),
        Ok(1..=255) => Ok(LitInt::new(code.base10_digits(), code.span())),
        _ => Err(Error::new(
            code.span(),
            format!("`exit_code = {code}` is out of range: exit codes are 1 to 255"),
        )),
    }
}

/// A value that must be a path (`SUPPORT`, `crate::support::MATRIX`, `::pg`).
fn path(value: TokenStream, expected: &str) -> Result<TokenStream, Error> {
    if is_path(&value) {
        return Ok(value);
    }
    let mut tokens = value.clone().into_iter();
    let message = match (tokens.next(), tokens.next()) {
        (Some(TokenTree::Literal(_)), None) => format!("{expected}, not a literal"),
        _ => expected.to_owned(),
    };
    Err(Error::new_spanned(value, message))
}

/// `(::)? IDENT (:: IDENT)*`
fn is_path(value: &TokenStream) -> bool {
    let tokens: Vec<TokenTree> = value.clone().into_iter().collect();
    let is_colon = |i: usize| matches!(tokens.get(i), Some(TokenTree::Punct(p)) if p.as_char() == ':');
    let mut i = if is_colon(0) && is_colon(1) { 2 } else { 0 };
    loop {
        if !matches!(tokens.get(i), Some(TokenTree::Ident(_))) {
            return false;
        }
        i += 1;
        if i == tokens.len() {
            return true;
        }
        if !(is_colon(i) && is_colon(i + 1)) {
            return false;
        }
        i += 2;
    }
}

/// Gives tokens parsed from a string literal the literal's span, so errors point at it.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}
