// The manifests in a file of an image, found as its bytes stream past: the file is never held
// whole, only each manifest's own bytes are kept (at most a header and `MAX_BODY`), as the
// command's `read_file` keeps them from a file on disk.

use core::ops::Range;

use platform_gate::manifest::{HEADER, MAGIC, MAX_BODY, Manifest, ReadError, announced_len, magic};

/// What a file holds of manifests: their bytes, one after the other, and where each starts in the
/// file; or why one of them is not a manifest.
#[derive(Debug, Default)]
pub(crate) struct Found {
    bytes: Vec<u8>,
    at: Vec<(usize, Range<usize>)>,
    error: Option<ReadError>,
}

impl Found {
    /// Whether the file holds a manifest's magic at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.at.is_empty() && self.error.is_none()
    }

    /// Its manifests, as the command's `read` would give them for the whole file.
    pub(crate) fn manifests(&self) -> Result<Vec<Manifest<'_>>, ReadError> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        Manifest::parse_all(self.at.iter().map(|(offset, range)| (&self.bytes[range.clone()], *offset)))
    }
}

/// Finds manifests in bytes fed to it a piece at a time.
pub(crate) struct Scanner {
    finder: memchr::memmem::Finder<'static>,
    /// The last bytes fed, too few for a whole magic: a magic that began there ends in the next piece.
    carried: Vec<u8>,
    /// Where in the file the next piece starts.
    position: usize,
    /// The manifest being read: where it starts in the file, and its whole length once its header
    /// is in. Only one is read at a time: a magic inside a manifest is part of that manifest.
    open: Option<(usize, Option<usize>)>,
    /// Where the last manifest read ends: no magic before it starts another.
    skip_until: usize,
    found: Found,
}

impl Scanner {
    pub(crate) fn new() -> Scanner {
        // Unmasked at run time, as the command's finder: see `platform_gate::manifest::MAGIC_KEY`.
        let finder = memchr::memmem::Finder::new(&magic()).into_owned();
        Scanner {
            finder,
            carried: Vec::new(),
            position: 0,
            open: None,
            skip_until: 0,
            found: Found::default(),
        }
    }

    /// The next bytes of the file.
    pub(crate) fn feed(&mut self, piece: &[u8]) {
        if self.found.error.is_some() || piece.is_empty() {
            return;
        }
        // The window: the carried bytes, then the piece; `window_start` is where it starts in the file.
        let mut window = std::mem::take(&mut self.carried);
        let window_start = self.position - window.len();
        window.extend_from_slice(piece);
        self.fill_open(&window, window_start);
        for at in self.finder.find_iter(&window).map(|at| window_start + at).collect::<Vec<_>>() {
            if at < self.skip_until || self.open.is_some() || self.found.error.is_some() {
                continue;
            }
            self.open = Some((at, None));
            let end = self.found.bytes.len();
            self.found.at.push((at, end..end));
            self.fill_open(&window, window_start);
        }
        self.position += piece.len();
        let keep = window.len().min(MAGIC.len() - 1);
        window.drain(..window.len() - keep);
        self.carried = window;
    }

    /// Adds to the open manifest what `window` (at `window_start` in the file) has of it, and
    /// closes it once it has all it announced.
    fn fill_open(&mut self, window: &[u8], window_start: usize) {
        while let Some((at, len)) = self.open {
            let (_, range) = self.found.at.last_mut().expect("the open manifest's entry");
            let want = len.unwrap_or(HEADER);
            let next = at + range.len(); // the manifest's next byte, in the file
            let window_end = window_start + window.len();
            if range.len() < want {
                if next >= window_end {
                    return;
                }
                let take = (want - range.len()).min(window_end - next);
                self.found.bytes.extend_from_slice(&window[next - window_start..][..take]);
                range.end += take;
                continue;
            }
            match len {
                // The header is in: how long the manifest says it is, or only the header when it
                // announces more than a manifest may hold (the parser then says why).
                None => {
                    let total = announced_len(&self.found.bytes[range.clone()])
                        .filter(|&total| total - HEADER <= MAX_BODY + 4)
                        .unwrap_or(HEADER);
                    self.open = Some((at, Some(total)));
                }
                Some(_) => self.close(),
            }
        }
    }

    /// Parses the open manifest with what it has: a manifest cut short is judged as the parser
    /// judges a short one, and the first that is not a manifest ends the scan.
    fn close(&mut self) {
        let Some((at, _)) = self.open.take() else { return };
        let (_, range) = self.found.at.last().expect("the open manifest's entry").clone();
        match Manifest::parse(&self.found.bytes[range.clone()], at) {
            Ok(_) => self.skip_until = at + range.len(),
            Err(error) => self.found.error = Some(error),
        }
    }

    /// What the file held, once all of it was fed.
    pub(crate) fn finish(mut self) -> Found {
        self.close();
        self.found
    }
}
