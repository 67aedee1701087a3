// Images among the FILE arguments: an OCI image layout, an OCI archive or a `docker save` tarball
// (by skopeo's transport names, or recognised by what they hold), read by `platform-gate-fleet`'s
// image reader; their binaries join a pod's as loose files do, and `check` judges the index
// against them.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Arg, ArgMatches};
use platform_gate::Arch;
use platform_gate_cli::Manifest;
use platform_gate_fleet::image::{EntryVerdict, Image, ImageBinary, PlatformImage, ReadOptions};

use crate::CANNOT_TELL;

/// A FILE argument: a loose file, or an image and what it holds.
pub(crate) enum Input {
    File(PathBuf),
    Image { name: String, platforms: Vec<PlatformImage> },
}

/// `--max-layer-size`, for every command that takes images.
pub(crate) fn max_layer_size_arg() -> Arg {
    Arg::new("max-layer-size")
        .long("max-layer-size")
        .value_name("BYTES")
        .value_parser(clap::value_parser!(u64).range(1..))
        .help("Of an image, refuse a layer that decompresses to more than BYTES (a decompression bomb) [default: 16 GiB]")
}

/// What `--max-layer-size` allows.
pub(crate) fn read_options(args: &ArgMatches) -> ReadOptions {
    let mut options = ReadOptions::default();
    if let Some(&max) = args.get_one::<u64>("max-layer-size") {
        options.max_layer_size = max;
    }
    options
}

/// The image `path` names by a transport or holds, or `None` for a loose file.
pub(crate) fn open(path: &Path) -> Result<Option<Image>, String> {
    if Image::is_transport(path.as_os_str()) {
        let source =
            path.to_str().ok_or_else(|| format!("{}: an image name must be UTF-8", path.display()))?;
        return Image::open(source).map(Some).map_err(|error| error.to_string());
    }
    Image::recognise(path).map_err(|error| error.to_string())
}

/// Each FILE argument, the images among them read.
pub(crate) fn inputs(args: &ArgMatches, name: &str) -> Result<Vec<Input>, String> {
    let options = read_options(args);
    let mut inputs = Vec::new();
    for path in args.get_many::<PathBuf>(name).into_iter().flatten() {
        inputs.push(match open(path)? {
            Some(image) => {
                let platforms = image.read(&options).map_err(|error| error.to_string())?;
                Input::Image { name: path.display().to_string(), platforms }
            }
            None => Input::File(path.clone()),
        });
    }
    Ok(inputs)
}

/// Of an image, the manifests a pod of it runs: each platform entry's binaries (the program
/// `wanted` names, or all), those built for the entry's platform. A binary for another platform,
/// and an entry no node picks, are left out with a note on stderr.
pub(crate) fn pod_manifests<'a>(
    name: &str,
    platforms: &'a [PlatformImage],
    wanted: Option<&String>,
) -> Result<Vec<Manifest<'a>>, String> {
    let mut stderr = std::io::stderr().lock();
    let mut all: Vec<Manifest<'a>> = Vec::new();
    for platform in platforms {
        if !picked_by_hosts(platform) {
            let _ = writeln!(
                stderr,
                "platform-gate: {name}: the {} entry is left out: no node picks it (containerd does not detect an amd64 CPU's level)",
                escaped(&platform.platform())
            );
            continue;
        }
        for binary in &platform.binaries {
            for manifest in manifests_of(name, platform, binary)? {
                if wanted.is_some_and(|wanted| manifest.program != *wanted) {
                    continue;
                }
                if let verdict @ EntryVerdict::OtherPlatform { .. } = EntryVerdict::of(platform, &manifest) {
                    let _ = writeln!(
                        stderr,
                        "platform-gate: {name} {} {}: {verdict}; left out",
                        escaped(&platform.platform()),
                        escaped(&binary.path)
                    );
                    continue;
                }
                if all
                    .iter()
                    .any(|other| other.program == manifest.program && other.platform == manifest.platform)
                {
                    let _ = writeln!(
                        stderr,
                        "platform-gate: {name} {} {}: another entry already gave {} for {:#}; left out",
                        escaped(&platform.platform()),
                        escaped(&binary.path),
                        manifest.program,
                        manifest.platform
                    );
                    continue;
                }
                all.push(manifest);
            }
        }
    }
    if all.is_empty() {
        return Err(format!(
            "{name}: no gated binary in the image{}",
            wanted.map_or(String::new(), |wanted| format!(" of a program named {wanted:?}"))
        ));
    }
    Ok(all)
}

/// Whether a host of the entry's platform pulls it: not an amd64/v2..v4 entry, since containerd
/// does not detect an amd64 host's level.
pub(crate) fn picked_by_hosts(platform: &PlatformImage) -> bool {
    platform.architecture != "amd64" || platform.variant.as_deref().is_none_or(|variant| variant == "v1")
}

/// The binary's manifests, or one line that says where the bad one is.
pub(crate) fn manifests_of<'a>(
    name: &str,
    platform: &PlatformImage,
    binary: &'a ImageBinary,
) -> Result<Vec<Manifest<'a>>, String> {
    binary.manifests().map_err(|error| {
        format!("{name} {} {}: {error}", escaped(&platform.platform()), escaped(&binary.path))
    })
}

/// `check IMAGE`: each platform entry against its binaries, one line per binary, the entrypoint's
/// first. Exit 1 where an advertised platform would refuse, 2 where the image has no gated binary.
pub(crate) fn check(
    name: &str,
    platforms: &[PlatformImage],
    wanted: Option<&String>,
) -> Result<ExitCode, String> {
    let mut out = String::new();
    let (mut refusing, mut judged) = (Vec::new(), 0);
    for platform in platforms {
        let entry = escaped(&platform.platform());
        let command = match (&platform.entrypoint, platform.command.first()) {
            (Some(path), _) => format!("starts {}", escaped(path)),
            (None, Some(word)) => format!("starts {word:?}, which is no file of the image"),
            (None, None) => "sets no command".to_string(),
        };
        out.push_str(&format!("{entry} ({}): {command}\n", short(&platform.digest)));
        let mut any = false;
        for binary in &platform.binaries {
            for manifest in manifests_of(name, platform, binary)? {
                if wanted.is_some_and(|wanted| manifest.program != *wanted) {
                    continue;
                }
                any = true;
                judged += 1;
                let verdict = EntryVerdict::of(platform, &manifest);
                let role = if binary.entrypoint { " (the entrypoint)" } else { "" };
                out.push_str(&format!("  {}{role}: {} {verdict}\n", escaped(&binary.path), manifest.program));
                if let EntryVerdict::NeedsCpu { level, .. } = &verdict {
                    let mark = if manifest.platform.arch == Arch::X86_64 && *level >= 2 {
                        format!(
                            ", or mark the entry {}/v{level}",
                            entry.split('/').take(2).collect::<Vec<_>>().join("/")
                        )
                    } else {
                        String::new()
                    };
                    out.push_str(&format!(
                        "    (`platform-gate kubernetes {name}` prints that affinity{mark})\n"
                    ));
                }
                if verdict.crash_loops() && !refusing.contains(&entry) {
                    refusing.push(entry.clone());
                }
            }
        }
        if !any {
            out.push_str("  no gated binary\n");
        }
    }
    if std::io::stdout().lock().write_all(out.as_bytes()).is_err() {
        return Ok(ExitCode::from(CANNOT_TELL));
    }
    let mut stderr = std::io::stderr().lock();
    if judged == 0 {
        let _ = writeln!(stderr, "platform-gate: {name}: no gated binary in the image");
        return Ok(ExitCode::from(CANNOT_TELL));
    }
    if refusing.is_empty() {
        let _ =
            writeln!(stderr, "platform-gate: {name}: every advertised platform starts its gated binaries");
        return Ok(ExitCode::SUCCESS);
    }
    let _ = writeln!(
        stderr,
        "platform-gate: {name}: {} of {} advertised platforms would not start: {}",
        refusing.len(),
        platforms.len(),
        refusing.join(", ")
    );
    Ok(ExitCode::FAILURE)
}

/// `text` from an image (a path, a word of its command) on one line: control characters escaped.
pub(crate) fn escaped(text: &str) -> String {
    text.chars()
        .map(|character| {
            if character.is_control() {
                character.escape_default().to_string()
            } else {
                character.to_string()
            }
        })
        .collect()
}

/// A digest's algorithm and its first 12 hex digits, as `docker images` shows IDs.
fn short(digest: &str) -> &str {
    let end = digest.find(':').map_or(digest.len(), |colon| (colon + 13).min(digest.len()));
    &digest[..end]
}
