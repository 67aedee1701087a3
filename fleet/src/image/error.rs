// Why an image could not be read: one line each, naming the blob, the layer or the path, never a
// panic. Images are hostile input (see `docs/images.md`).

use core::fmt;

/// Why an image could not be read, in one line that names what is wrong and where.
///
/// ```
/// use platform_gate_fleet::image::{Image, ImageError};
///
/// let error = Image::open("oci:/nonexistent/layout").unwrap_err();
/// assert!(matches!(error, ImageError::Io { .. }));
/// assert!(error.to_string().starts_with("/nonexistent/layout/index.json: "), "{error}");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ImageError {
    /// A file of the image (a layout's file, an archive) could not be read.
    Io {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// A blob the image refers to is not there.
    MissingBlob {
        /// Its digest, or its path in a `docker save` archive.
        blob: String,
        /// What referred to it.
        what: String,
    },
    /// A blob's bytes do not hash to its digest, or are not as long as its descriptor says.
    DigestMismatch {
        /// The digest it should have.
        blob: String,
        /// What was read instead.
        found: String,
    },
    /// A descriptor or a layer of a media type this reader does not know.
    UnknownMediaType {
        /// The media type.
        media_type: String,
        /// Its blob.
        blob: String,
    },
    /// A layer decompressed to more bytes than the limit (a decompression bomb, or a layer larger
    /// than the limit allows).
    TooLarge {
        /// The layer's digest.
        blob: String,
        /// The bytes decompressed when reading stopped.
        decompressed: u64,
        /// The limit they went over.
        limit: u64,
        /// The bytes of the blob read by then.
        compressed: u64,
    },
    /// Something the image holds is not what the image spec (or `docker save`) defines: a tar that
    /// ends early or lies about a size, JSON that is not an index or a manifest, a path that climbs
    /// out of the root, an index that refers to itself, a symlink loop.
    Invalid {
        /// Where: a blob, a layer and a path in it.
        at: String,
        /// What is wrong.
        why: String,
    },
    /// What the reference names is not in the image, or the image holds several and none is named.
    Reference(String),
}

impl fmt::Display for ImageError {
    /// One line: what the image holds (a name in a tar, a tag, the tar crate's quote of a header)
    /// may hold newlines and other control characters, which are written escaped (`\n`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;

        let text = self.unescaped();
        for character in text.chars() {
            if character.is_control() {
                write!(f, "{}", character.escape_default())?;
            } else {
                f.write_char(character)?;
            }
        }
        Ok(())
    }
}

impl ImageError {
    /// The message, control characters and all.
    fn unescaped(&self) -> String {
        match self {
            ImageError::Io { path, error } => format!("{path}: {error}"),
            ImageError::MissingBlob { blob, what } => format!("blob {blob} ({what}) is missing"),
            ImageError::DigestMismatch { blob, found } => {
                format!("blob {blob} does not match its digest: {found}")
            }
            ImageError::UnknownMediaType { media_type, blob } => {
                format!("blob {blob} has media type {media_type:?}, which this reader does not know")
            }
            ImageError::TooLarge { blob, decompressed, limit, compressed } => format!(
                "layer {blob} decompressed to {decompressed} bytes from {compressed}, over the limit of {limit}, \
                 and was not read further (a decompression bomb?)"
            ),
            ImageError::Invalid { at, why } => format!("{at}: {why}"),
            ImageError::Reference(why) => why.clone(),
        }
    }
}

impl std::error::Error for ImageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ImageError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// An [`ImageError::Invalid`].
pub(crate) fn invalid(at: impl fmt::Display, why: impl fmt::Display) -> ImageError {
    ImageError::Invalid { at: at.to_string(), why: why.to_string() }
}
