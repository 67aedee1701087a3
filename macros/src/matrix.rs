// `matrix! { ARCH OS => STATUS ["maintainer", ...] note = "...", ... }`: each row's names checked
// against the runtime's own spelling tables (compiled into this crate), then emitted as `Row`s.

use proc_macro2::{Delimiter, Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{LitStr, Token};

use crate::error::Error;

use crate::names::policy::STATUSES;
use crate::names::{Arch, Os, first_forbidden_character};
use crate::suggest::closest;
use crate::tokens::{Errors, both, split_on};

const ROW_FORM: &str =
    "a row is `ARCH OS => STATUS`, optionally followed by `[\"maintainer\", ...]` and `note = \"...\"`";

struct Row {
    arch: Arch,
    os: Os,
    /// The row's `ARCH OS` as written, for duplicate errors.
    written: String,
    platform_tokens: TokenStream,
    status: Ident,
    maintainers: Vec<LitStr>,
    note: Option<LitStr>,
}

/// Expands `$crate; rows...` (what the runtime's `matrix!` passes on) into a `Matrix` expression.
pub fn expand(input: TokenStream) -> Result<TokenStream, Error> {
    let mut parts = split_on(input, ';').into_iter();
    let krate = parts.next().unwrap_or_default();
    let rows_input: TokenStream = parts.flat_map(|part| part.into_iter()).collect();

    let mut errors = Errors::default();
    let mut rows: Vec<Row> = Vec::new();
    for written in split_on(rows_input, ',').into_iter().filter(|row| !row.is_empty()) {
        match parse_row(written) {
            Ok(row) => {
                if let Some(first) = rows.iter().find(|first| first.arch == row.arch && first.os == row.os) {
                    let message = if first.written == row.written {
                        format!("duplicate row: `{}` is already listed", row.written)
                    } else {
                        format!(
                            "duplicate row: `{}` is the same platform as `{}` above",
                            row.written, first.written
                        )
                    };
                    errors.push(Error::new_spanned(row.platform_tokens.clone(), message));
                } else {
                    rows.push(row);
                }
            }
            Err(error) => errors.push(error),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(Error::new(
            Span::call_site(),
            "an empty support matrix refuses every platform; list at least one row, such as `amd64 linux => stable`",
        ));
    }
    let rows = errors.finish(rows)?;

    let private = quote!(#krate::__private);
    let rows = rows.iter().map(|row| {
        let arch = format_ident!("{}", format!("{:?}", row.arch));
        let os = format_ident!("{}", format!("{:?}", row.os));
        let status = format_ident!(
            "{}",
            capitalized(&row.status.to_string().to_ascii_lowercase()),
            span = row.status.span()
        );
        let maintainers: Vec<_> = row.maintainers.iter().map(LitStr::token).collect();
        let maintainers = (!maintainers.is_empty()).then(|| quote!(.maintained_by(&[#(#maintainers),*])));
        let note = row.note.as_ref().map(LitStr::token).map(|note| quote!(.with_note(#note)));
        quote! {
            #private::Row::new(#private::Arch::#arch, #private::Os::#os, #private::Status::#status)
                #maintainers #note
        }
    });
    Ok(quote!(#private::Matrix::new(&[#(#rows),*])))
}

fn parse_row(written: TokenStream) -> Result<Row, Error> {
    let tokens: Vec<TokenTree> = written.clone().into_iter().collect();
    let arch = name_at(&tokens, 0, "architecture", Arch::from_name, &arch_names());
    let os = name_at(&tokens, 1, "operating system", Os::from_name, &os_names());
    let ((arch, os), status) = both(both(arch, os), status_at(&tokens))?;
    let platform_tokens: TokenStream = tokens[..2].iter().cloned().collect();
    let mut row = Row {
        arch,
        os,
        written: format!("{} {}", tokens[0], tokens[1]),
        platform_tokens,
        status,
        maintainers: Vec::new(),
        note: None,
    };
    let mut i = 5;
    if let Some(TokenTree::Group(group)) = tokens.get(i).filter(|token| is_bracketed(token)) {
        let list = Punctuated::<LitStr, Token![,]>::parse_terminated.parse2(group.stream());
        row.maintainers = list
            .map_err(|_| {
                Error::new_spanned(
                    [TokenTree::Group(group.clone())],
                    "maintainers are a list of strings, such as `[\"ops team\", \"@alice\"]`",
                )
            })?
            .into_iter()
            .collect();
        row.maintainers = row
            .maintainers
            .into_iter()
            .map(|name| printable(name, "a maintainer's name"))
            .collect::<Result<_, _>>()?;
        i += 1;
    }
    if matches!(tokens.get(i), Some(TokenTree::Ident(word)) if word == "note") {
        let value: TokenStream = tokens.get(i + 2..).unwrap_or_default().iter().cloned().collect();
        let is_eq = matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '=');
        row.note = Some(match syn::parse2::<LitStr>(value) {
            Ok(note) if is_eq => printable(note, "a note")?,
            _ => return Err(Error::new_spanned([tokens[i].clone()], "a note is written `note = \"...\"`")),
        });
        i = tokens.len();
    }
    if let Some(extra) = tokens.get(i) {
        let rest: TokenStream = tokens[i..].iter().cloned().collect();
        return Err(Error::new_spanned(
            rest,
            format!("unexpected `{extra}`; {ROW_FORM}, and rows are separated by commas"),
        ));
    }
    Ok(row)
}

/// The architecture or OS named by the token at `index`, with a suggestion if it names none.
fn name_at<T>(
    tokens: &[TokenTree],
    index: usize,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
    known: &[&'static str],
) -> Result<T, Error> {
    let token = match tokens.get(index) {
        Some(token @ (TokenTree::Ident(_) | TokenTree::Literal(_))) => token,
        Some(other) => return Err(Error::new(other.span(), format!("expected an {what}; {ROW_FORM}"))),
        None => {
            let after = tokens.last().map_or(Span::call_site(), TokenTree::span);
            return Err(Error::new(after, format!("expected an {what} here; {ROW_FORM}")));
        }
    };
    let name = token.to_string();
    parse(&name).ok_or_else(|| {
        let message = match closest(&name, known.iter().copied()) {
            Some(fix) => format!("unknown {what} `{name}`; did you mean `{fix}`?"),
            None => format!(
                "unknown {what} `{name}`; use its Go or Rust name, such as `{}` or `{}`",
                known[0], known[1]
            ),
        };
        Error::new(token.span(), message)
    })
}

fn status_at(tokens: &[TokenTree]) -> Result<Ident, Error> {
    let arrow = matches!(tokens.get(2), Some(TokenTree::Punct(p)) if p.as_char() == '=')
        && matches!(tokens.get(3), Some(TokenTree::Punct(p)) if p.as_char() == '>');
    if !arrow {
        let at = tokens.get(2).or(tokens.last()).map_or(Span::call_site(), TokenTree::span);
        return Err(Error::new(at, format!("expected `=> STATUS` after the platform; {ROW_FORM}")));
    }
    let Some(TokenTree::Ident(status)) = tokens.get(4) else {
        let at = tokens.get(4).unwrap_or(&tokens[3]);
        return Err(Error::new(at.span(), "expected a status: `stable`, `experimental` or `unstable`"));
    };
    let word = status.to_string().to_ascii_lowercase();
    if STATUSES.contains(&word.as_str()) {
        return Ok(status.clone());
    }
    let message = match closest(&word, STATUSES.into_iter().rev()) {
        _ if word == "unsupported" => {
            "`unsupported` is not a status: leave the platform out of the matrix and it is unsupported"
                .to_owned()
        }
        Some(fix) => format!("unknown status `{status}`; did you mean `{fix}`?"),
        None => format!("unknown status `{status}`; expected `stable`, `experimental` or `unstable`"),
    };
    Err(Error::new(status.span(), message))
}

fn arch_names() -> Vec<&'static str> {
    Arch::ALL
        .iter()
        .flat_map(|arch| [arch.go_name(), arch.rust_name()].into_iter().chain(arch.aliases().iter().copied()))
        .collect()
}

fn os_names() -> Vec<&'static str> {
    Os::ALL.iter().flat_map(|os| [os.go_name(), os.rust_name()]).collect()
}

/// `text`, if refusals can print it as it is: one line, no terminal controls.
fn printable(text: LitStr, what: &str) -> Result<LitStr, Error> {
    match first_forbidden_character(&text.value()) {
        None => Ok(text),
        Some(c) => Err(Error::new(
            text.span(),
            format!(
                "{what} cannot contain {:?} (U+{:04X}): refusals print it to operators, where a control character \
                 or a bidirectional override could forge lines or reorder them; write it as one line of text",
                c,
                u32::from(c)
            ),
        )),
    }
}

fn is_bracketed(token: &TokenTree) -> bool {
    matches!(token, TokenTree::Group(group) if group.delimiter() == Delimiter::Bracket)
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}
