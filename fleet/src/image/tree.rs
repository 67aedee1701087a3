// The image's filesystem, as its layers make it: later layers win, whiteouts and opaque
// directories delete what the layers below have, and paths resolve through symlinks inside the
// image (its root is `/`, as in a container), never outside it.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::image::error::{ImageError, invalid};
use crate::image::layer::Change;
use crate::image::scan::Found;

/// What is at a path of the filesystem.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    Dir,
    File { executable: bool, found: Arc<Found> },
    Symlink(String),
    Other,
}

/// The filesystem: each path (from the root, without a leading `/`) and what is there.
#[derive(Default)]
pub(crate) struct Tree {
    nodes: BTreeMap<String, Node>,
}

/// The most paths an image's filesystem may have: each costs this reader its name and a few words.
pub(crate) const MAX_PATHS: usize = 2_000_000;

/// The most symlinks one path may go through, as Linux's `MAXSYMLINKS`.
const MAX_SYMLINKS: usize = 40;

impl Tree {
    /// Applies a layer's changes: its whiteouts first, which delete only what the layers below
    /// have, then its entries in order.
    pub(crate) fn apply(&mut self, layer: &str, changes: Vec<Change>) -> Result<(), ImageError> {
        for change in &changes {
            match change {
                Change::Whiteout(path) => {
                    self.nodes.remove(path);
                    self.remove_under(path);
                }
                Change::Opaque(path) => self.remove_under(path),
                _ => {}
            }
        }
        for change in changes {
            let (path, node) = match change {
                Change::Whiteout(_) | Change::Opaque(_) => continue,
                Change::Dir(path) => (path, Node::Dir),
                Change::File { path, executable, found } => (path, Node::File { executable, found }),
                Change::Symlink { path, target } => (path, Node::Symlink(target)),
                Change::Hardlink { path, target } => {
                    let node = self.nodes.get(&target).cloned().ok_or_else(|| {
                        invalid(
                            format!("layer {layer}: /{path}"),
                            format!("is a hard link to /{target}, which is not there"),
                        )
                    })?;
                    (path, node)
                }
                Change::Other(path) => (path, Node::Other),
            };
            // A file in place of a directory hides what the directory held.
            if !matches!(node, Node::Dir) && matches!(self.nodes.get(&path), Some(Node::Dir)) {
                self.remove_under(&path);
            }
            if matches!(node, Node::Dir) && matches!(self.nodes.get(&path), Some(Node::Dir)) {
                continue;
            }
            self.nodes.insert(path, node);
            if self.nodes.len() > MAX_PATHS {
                return Err(invalid(
                    format!("layer {layer}"),
                    format!("the filesystem has more than {MAX_PATHS} paths"),
                ));
            }
        }
        Ok(())
    }

    /// Deletes everything under the directory `path` (the root for `""`).
    fn remove_under(&mut self, path: &str) {
        if path.is_empty() {
            self.nodes.clear();
            return;
        }
        let from = format!("{path}/");
        let to = format!("{path}0"); // '0' follows '/'
        let doomed: Vec<String> = self.nodes.range(from..to).map(|(path, _)| path.clone()).collect();
        for path in doomed {
            self.nodes.remove(&path);
        }
    }

    /// Every regular file that holds a manifest's magic, in path order.
    pub(crate) fn gated(&self) -> impl Iterator<Item = (&str, &Arc<Found>)> {
        self.nodes.iter().filter_map(|(path, node)| match node {
            Node::File { found, .. } if !found.is_empty() => Some((path.as_str(), found)),
            _ => None,
        })
    }

    /// Where `path` (absolute, or relative to the root) leads, through every symlink: the path it
    /// resolves to and what is there, or `None` when nothing is. An error for a symlink loop.
    pub(crate) fn resolve(&self, path: &str) -> Result<Option<(String, &Node)>, ImageError> {
        let mut pending: Vec<String> = components(path).rev().map(str::to_string).collect();
        let mut resolved: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                resolved.pop();
                continue;
            }
            resolved.push(part);
            let here = resolved.join("/");
            match self.nodes.get(&here) {
                // A directory no entry of its own made: layers need not list the directories
                // their files are in.
                None if !pending.is_empty() => {}
                None => return Ok(None),
                Some(Node::File { .. } | Node::Other) if !pending.is_empty() => return Ok(None),
                Some(Node::Symlink(target)) => {
                    hops += 1;
                    if hops > MAX_SYMLINKS {
                        let shown = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
                        return Err(invalid(
                            shown,
                            format!("resolves through more than {MAX_SYMLINKS} symlinks (a symlink loop)"),
                        ));
                    }
                    resolved.pop();
                    if target.starts_with('/') {
                        resolved.clear();
                    }
                    pending.extend(components(target).rev().map(str::to_string));
                }
                Some(_) => {}
            }
        }
        let here = resolved.join("/");
        Ok(self.nodes.get(&here).map(|node| (here, node)))
    }
}

/// The path's components, without empty ones and `.`.
fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|part| !part.is_empty() && *part != ".")
}

/// What a container of the image would start: `Entrypoint` then `Cmd`, its first word looked up
/// as the runtime looks it up (a path with `/` as it is, relative ones from `WorkingDir`; a bare
/// name in the `PATH` of the config's `Env`).
pub(crate) struct Start<'a> {
    pub(crate) argv0: &'a str,
    pub(crate) working_dir: &'a str,
    pub(crate) path_variable: Option<&'a str>,
}

/// The `PATH` a runtime uses where the image's config sets none (runc's, containerd's).
pub(crate) const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl Tree {
    /// The regular file the container's first word resolves to, and its path; `None` where it is
    /// no regular file of the image.
    pub(crate) fn entrypoint(&self, start: &Start<'_>) -> Result<Option<String>, ImageError> {
        // A `PATH` search skips files that are not executable, as execvp does.
        let searched = !start.argv0.contains('/');
        let candidates: Vec<String> = if !searched {
            let path = if start.argv0.starts_with('/') {
                start.argv0.to_string()
            } else {
                format!("{}/{}", start.working_dir.trim_end_matches('/'), start.argv0)
            };
            vec![path]
        } else {
            start
                .path_variable
                .unwrap_or(DEFAULT_PATH)
                .split(':')
                .map(|directory| {
                    format!("{}/{}", if directory.is_empty() { "." } else { directory }, start.argv0)
                })
                .collect()
        };
        for candidate in candidates {
            if let Some((path, Node::File { executable, .. })) = self.resolve(&candidate)? {
                if *executable || !searched {
                    return Ok(Some(path));
                }
            }
        }
        Ok(None)
    }
}
