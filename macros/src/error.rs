// The macros' compile errors: syn's `Error`, rendered token for token as syn renders it, without
// syn's `printing` feature. That feature makes syn depend on quote, so that every user's build
// compiles quote before syn instead of beside it; these few lines keep the two side by side.

use core::fmt::Display;

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// One or more messages, each spanning the tokens it is about.
pub struct Error {
    messages: Vec<Message>,
}

struct Message {
    start: Span,
    end: Span,
    text: String,
}

impl Error {
    /// An error at `span`.
    pub fn new(span: Span, message: impl Display) -> Error {
        Error { messages: vec![Message { start: span, end: span, text: message.to_string() }] }
    }

    /// An error spanning `tokens`, from the first to the last (as `syn::Error::new_spanned`); at
    /// the macro's call site where there are none.
    pub fn new_spanned(tokens: impl IntoIterator<Item = TokenTree>, message: impl Display) -> Error {
        let mut tokens = tokens.into_iter();
        let start = tokens.next().map_or_else(Span::call_site, |token| token.span());
        let end = tokens.last().map_or(start, |token| token.span());
        Error { messages: vec![Message { start, end, text: message.to_string() }] }
    }

    /// Adds `other`'s messages after these.
    pub fn combine(&mut self, other: Error) {
        self.messages.extend(other.messages);
    }

    /// One `::core::compile_error! { "..." }` per message, in order.
    pub fn to_compile_errors(&self) -> Vec<TokenStream> {
        self.messages.iter().map(Message::to_compile_error).collect()
    }

    /// Every message's `compile_error!`, one after another.
    pub fn to_compile_error(&self) -> TokenStream {
        self.to_compile_errors().into_iter().collect()
    }
}

impl Message {
    /// `::core::compile_error! { "text" }`: the path and `!` at the start, so that the compiler's
    /// error spans from `start` to `end`, the braces and the string at the end.
    fn to_compile_error(&self) -> TokenStream {
        let punct = |c, spacing| {
            let mut punct = Punct::new(c, spacing);
            punct.set_span(self.start);
            TokenTree::Punct(punct)
        };
        let mut text = Literal::string(&self.text);
        text.set_span(self.end);
        let mut group = Group::new(Delimiter::Brace, TokenTree::Literal(text).into());
        group.set_span(self.end);
        [
            punct(':', Spacing::Joint),
            punct(':', Spacing::Alone),
            TokenTree::Ident(Ident::new("core", self.start)),
            punct(':', Spacing::Joint),
            punct(':', Spacing::Alone),
            TokenTree::Ident(Ident::new("compile_error", self.start)),
            punct('!', Spacing::Alone),
            TokenTree::Group(group),
        ]
        .into_iter()
        .collect()
    }
}
