// A name in a tar (a layer's entry, an archive's file, a hard link's target) as a path from the
// image's root: the one place that decides what climbs out.

/// A tar entry's name as a path from the image's root, without `.` and empty components; an error
/// for a name that climbs out of the root with `..`.
pub(crate) fn normalize(name: &[u8]) -> Result<String, String> {
    let name = String::from_utf8_lossy(name);
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(format!("the path {name:?} climbs out of the image's root")),
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// Where a link in directory `directory` to `target` leads, from the root (`..` resolved); `None`
/// where it would climb out.
pub(crate) fn link_target(directory: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    let start = if target.starts_with('/') { "" } else { directory };
    for part in start.split('/').chain(target.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}
