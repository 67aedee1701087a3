// The item under `#[platform_gated]`: checked to be `fn main` with no parameters or generics, by
// scanning its tokens. The body is never parsed; the call is spliced in after its inner attributes.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use syn::Error;

use crate::tokens::Errors;

/// `fn main`, split where the call goes.
pub struct MainFn {
    /// Attributes, visibility, qualifiers, `fn main()`, the return type: kept as written.
    signature: Vec<TokenTree>,
    body: Group,
}

impl MainFn {
    pub fn parse(item: TokenStream) -> Result<MainFn, Error> {
        let tokens: Vec<TokenTree> = item.into_iter().collect();
        let mut i = 0;
        // Outer attributes (`#[...]`) and a visibility (`pub`, `pub(crate)`).
        while is_punct(tokens.get(i), '#') && is_group(tokens.get(i + 1), Delimiter::Bracket) {
            i += 2;
        }
        if is_ident(tokens.get(i), "pub") {
            i += 1;
            if is_group(tokens.get(i), Delimiter::Parenthesis) {
                i += 1;
            }
        }
        // Qualifiers: `const`, `async`, `unsafe`, `extern "C"`.
        while let Some(TokenTree::Ident(word)) = tokens.get(i) {
            match word.to_string().as_str() {
                "const" | "async" | "unsafe" | "safe" | "extern" => i += 1,
                _ => break,
            }
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
                        params,
                        "`main` takes no parameters; read arguments with `std::env::args()`",
                    ));
                }
            }
            other => errors.push(Error::new_spanned(other.cloned(), "expected `()` after `fn main`")),
        }
        let signature = tokens[..tokens.len() - 1].to_vec();
        errors.finish(MainFn { signature, body })
    }

    /// The function with `call` first in its body, after the body's inner attributes.
    pub fn with_call(self, call: TokenStream) -> TokenStream {
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
        let mut item: TokenStream = self.signature.into_iter().collect();
        item.extend([TokenTree::Group(new_body)]);
        item
    }
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
