// Token-level helpers. The macros scan tokens instead of parsing syntax trees, which keeps syn's
// `full` and `derive` features (and their compile time) out of every user's build.

use proc_macro2::{TokenStream, TokenTree};

use crate::error::Error;

/// Splits `input` at each top-level `separator` (one inside brackets belongs to the group).
pub fn split_on(input: TokenStream, separator: char) -> Vec<TokenStream> {
    let mut parts = vec![TokenStream::new()];
    for token in input {
        match &token {
            TokenTree::Punct(punct) if punct.as_char() == separator => parts.push(TokenStream::new()),
            _ => parts.last_mut().expect("starts with one part").extend([token]),
        }
    }
    parts
}

/// Collects independent mistakes so that one compile reports them all.
#[derive(Default)]
pub struct Errors(Option<Error>);

impl Errors {
    pub fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// `value` when nothing was pushed, else every error pushed.
    pub fn finish<T>(self, value: T) -> Result<T, Error> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}

/// Both values, or every error of the two.
pub fn both<A, B>(a: Result<A, Error>, b: Result<B, Error>) -> Result<(A, B), Error> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(mut first), Err(second)) => {
            first.combine(second);
            Err(first)
        }
        (Err(error), _) | (_, Err(error)) => Err(error),
    }
}
