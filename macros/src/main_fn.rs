// The item under `#[platform_gated]`: checked to be `fn main` with no parameters or generics, by
// scanning its tokens. The body is never parsed; the call is spliced in after its inner attributes,
// or, under an async runtime's attribute, into a synchronous `main` that runs before the runtime.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};

use crate::error::Error;

use crate::tokens::Errors;

/// `fn main`, split where the call goes.
pub struct MainFn {
    /// The outer attributes, each `#` and its `[...]`, as written.
    attributes: Vec<TokenStream>,
    /// The visibility (`pub`, `pub(crate)`), if any.
    visibility: Vec<TokenTree>,
    /// Qualifiers, `fn main()`, the return type: kept as written.
    signature: Vec<TokenTree>,
    body: Group,
    /// Where in `attributes` the async runtime's attribute is, for an `async fn main`.
    runtime: Option<usize>,
}

impl MainFn {
    pub fn parse(item: TokenStream) -> Result<MainFn, Error> {
        let tokens: Vec<TokenTree> = item.into_iter().collect();
        let mut i = 0;
        let mut attributes = Vec::new();
        while is_punct(tokens.get(i), '#') && is_group(tokens.get(i + 1), Delimiter::Bracket) {
            attributes.push(tokens[i..i + 2].iter().cloned().collect());
            i += 2;
        }
        let visibility_start = i;
        if is_ident(tokens.get(i), "pub") {
            i += 1;
            if is_group(tokens.get(i), Delimiter::Parenthesis) {
                i += 1;
            }
        }
        let visibility = tokens[visibility_start..i].to_vec();
        let signature_start = i;
        // Qualifiers: `const`, `async`, `unsafe`, `extern "C"`.
        let mut asyncness = None;
        while let Some(TokenTree::Ident(word)) = tokens.get(i) {
            match word.to_string().as_str() {
                "async" => asyncness = Some(word.span()),
                "const" | "unsafe" | "safe" | "extern" => {}
                _ => break,
            }
            i += 1;
            if matches!(tokens.get(i), Some(TokenTree::Literal(_))) {
                i += 1; // the ABI string after `extern`
            }
        }
        if !is_ident(tokens.get(i), "fn") {
            let at = tokens.get(i).or(tokens.last());
            let message = "`#[platform_gated]` goes on `fn main`: it gates the program's entry point";
            return Err(match at {
                Some(token) => Error::new(token.span(), message),
                None => Error::new(proc_macro2::Span::call_site(), message),
            });
        }
        let name = match tokens.get(i + 1) {
            Some(TokenTree::Ident(name)) => name.clone(),
            other => return Err(Error::new_spanned(other.cloned(), "expected the function's name")),
        };
        if name != "main" {
            let message = format!(
                "`#[platform_gated]` goes on `fn main`, not on `fn {name}`: the gate must run before anything else"
            );
            return Err(Error::new(name.span(), message));
        }
        i += 2;
        let body = match tokens.last() {
            Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace && tokens.len() > i => {
                body.clone()
            }
            other => return Err(Error::new_spanned(other.cloned(), "expected the body of `fn main`")),
        };

        let mut errors = Errors::default();
        if is_punct(tokens.get(i), '<') {
            let start = i;
            let mut depth = 0;
            while let Some(token) = tokens.get(i) {
                i += 1;
                if is_punct(Some(token), '<') {
                    depth += 1;
                } else if is_punct(Some(token), '>') && !is_punct(tokens.get(i - 2), '-') {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
            let generics: TokenStream = tokens[start..i].iter().cloned().collect();
            errors.push(Error::new_spanned(generics, "`main` cannot have generic parameters"));
        }
        match tokens.get(i) {
            Some(TokenTree::Group(params)) if params.delimiter() == Delimiter::Parenthesis => {
                if !params.stream().is_empty() {
                    errors.push(Error::new_spanned(
                        [TokenTree::Group(params.clone())],
                        "`main` takes no parameters; read arguments with `std::env::args()`",
                    ));
                }
            }
            other => errors.push(Error::new_spanned(other.cloned(), "expected `()` after `fn main`")),
        }
        let runtime = attributes.iter().position(is_runtime_attribute);
        if let (Some(span), None) = (asyncness, runtime) {
            // A runtime attribute above this one has already made `main` synchronous, so what is
            // left is an async `main` whose runtime would start before the gate could run.
            errors.push(Error::new(
                span,
                "`#[platform_gated]` must run before the async runtime starts, and no runtime attribute \
                 (such as `#[tokio::main]`) follows it here; write `#[platform_gated]` first, above the \
                 runtime's attribute: `#[platform_gated] #[tokio::main] async fn main()`",
            ));
        }
        let signature = tokens[signature_start..tokens.len() - 1].to_vec();
        errors.finish(MainFn { attributes, visibility, signature, body, runtime })
    }

    /// The function with `call` first in its body, after the body's inner attributes. Under an
    /// async runtime's attribute, `call` goes in a synchronous `main` instead, which then runs
    /// the async one: the gate refuses before the runtime exists, whatever that attribute does
    /// with the function's other attributes.
    pub fn with_call(self, call: TokenStream) -> TokenStream {
        match self.runtime {
            None => self.with_call_in_body(call),
            Some(runtime) => self.with_call_before_runtime(call, runtime),
        }
    }

    fn with_call_in_body(self, call: TokenStream) -> TokenStream {
        let body: Vec<TokenTree> = self.body.stream().into_iter().collect();
        let mut inner_attributes = 0;
        while is_punct(body.get(inner_attributes), '#')
            && is_punct(body.get(inner_attributes + 1), '!')
            && is_group(body.get(inner_attributes + 2), Delimiter::Bracket)
        {
            inner_attributes += 3;
        }
        let mut stream: TokenStream = body[..inner_attributes].iter().cloned().collect();
        stream.extend(call);
        stream.extend(body[inner_attributes..].iter().cloned());
        let mut new_body = Group::new(Delimiter::Brace, stream);
        new_body.set_span(self.body.span());
        let mut item: TokenStream = self.attributes.into_iter().collect();
        item.extend(self.visibility);
        item.extend(self.signature);
        item.extend([TokenTree::Group(new_body)]);
        item
    }

    /// `ATTRS VIS fn main() RET { #[RUNTIME] async fn main() RET BODY  CALL  main() }`: the nested
    /// item first, which runs nothing, so that no item follows a statement (`clippy::pedantic`'s
    /// `items_after_statements`); the gate is still the first thing that runs.
    fn with_call_before_runtime(mut self, call: TokenStream, runtime: usize) -> TokenStream {
        let runtime_attribute = self.attributes.remove(runtime);
        let name = self.signature.iter().find(|token| is_ident(Some(token), "main")).cloned();
        // Called once, by construction: `clippy::single_call_fn` (restriction) would say so to a
        // user who enables it, about code they did not write.
        let mut inner = quote::quote!(#[allow(clippy::single_call_fn)]);
        inner.extend(runtime_attribute);
        inner.extend(self.signature.iter().cloned());
        inner.extend([TokenTree::Group(self.body.clone())]);

        let mut body = inner;
        body.extend(call);
        body.extend(name);
        body.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, TokenStream::new()))]);
        let mut outer_body = Group::new(Delimiter::Brace, body);
        outer_body.set_span(self.body.span());

        let mut item: TokenStream = self.attributes.into_iter().collect();
        item.extend(self.visibility);
        item.extend(self.signature.into_iter().filter(|token| !is_ident(Some(token), "async")));
        item.extend([TokenTree::Group(outer_body)]);
        item
    }
}

/// `#[PATH::main]` or `#[PATH::main(...)]`: the attribute of an async runtime (tokio, actix,
/// async-std and others all name theirs `main`).
fn is_runtime_attribute(attribute: &TokenStream) -> bool {
    let Some(TokenTree::Group(brackets)) = attribute.clone().into_iter().nth(1) else {
        return false;
    };
    let tokens: Vec<TokenTree> = brackets.stream().into_iter().collect();
    let path_length = tokens
        .iter()
        .position(|token| !matches!(token, TokenTree::Ident(_)) && !is_punct(Some(token), ':'))
        .unwrap_or(tokens.len());
    let arguments = &tokens[path_length..];
    let last_segment = tokens[..path_length].iter().rev().find(|token| matches!(token, TokenTree::Ident(_)));
    is_ident(last_segment, "main")
        && (arguments.is_empty()
            || (arguments.len() == 1 && is_group(arguments.first(), Delimiter::Parenthesis)))
}

fn is_punct(token: Option<&TokenTree>, c: char) -> bool {
    matches!(token, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

fn is_ident(token: Option<&TokenTree>, word: &str) -> bool {
    matches!(token, Some(TokenTree::Ident(ident)) if ident == word)
}

fn is_group(token: Option<&TokenTree>, delimiter: Delimiter) -> bool {
    matches!(token, Some(TokenTree::Group(group)) if group.delimiter() == delimiter)
}
