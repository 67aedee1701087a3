// `show`: what each binary declares, for people and, with `--json`, for programs; of files, or of
// every regular file under a directory (`--recursive`).

use std::io::Write as _;

use std::process::ExitCode;

use clap::ArgMatches;
use platform_gate::CpuFeatures;
use platform_gate_cli::{FileError, Manifest, ReadError};
use serde_json::{Value, json};

use platform_gate_fleet::image::PlatformImage;

use crate::image::Input;
use crate::{CANNOT_TELL, manifests};

pub(crate) fn show(args: &ArgMatches) -> Result<ExitCode, String> {
    let json = args.get_flag("json");
    let recursive = args.get_flag("recursive");
    let mut status = ExitCode::SUCCESS;
    let mut found_any = false;
    let mut stdout = std::io::stdout().lock();
    // `file` is what JSON's "file" says, `label` what the text names; `image`, where in an image.
    let mut print = |file: &str, label: &str, found: &[Manifest<'_>], image: Option<Value>| -> bool {
        for manifest in found {
            let text = if json {
                let mut object = to_json(manifest);
                object["file"] = Value::String(file.to_string());
                if let Some(image) = &image {
                    object["image"] = image.clone();
                }
                format!("{object}\n")
            } else {
                describe(label, manifest)
            };
            if stdout.write_all(text.as_bytes()).is_err() {
                return false;
            }
        }
        true
    };
    // One buffer for the manifests of each file in turn: a walk of a whole tree holds one file's.
    let mut storage = Vec::new();
    for input in crate::image::inputs(args, "FILE")? {
        let path = match input {
            Input::File(path) => path,
            Input::Image { name, platforms } => {
                let mut any = false;
                for platform in &platforms {
                    for binary in &platform.binaries {
                        let found = crate::image::manifests_of(&name, platform, binary)?;
                        any = true;
                        let label = format!(
                            "{name} {} {}",
                            crate::image::escaped(&platform.platform()),
                            crate::image::escaped(&binary.path)
                        );
                        let image = image_json(platform, &binary.path, binary.entrypoint);
                        if !print(&name, &label, &found, Some(image)) {
                            return Ok(ExitCode::from(CANNOT_TELL));
                        }
                    }
                }
                found_any |= any;
                if !any {
                    let _ =
                        writeln!(std::io::stderr(), "platform-gate: {name}: no gated binary in the image");
                    status = ExitCode::from(CANNOT_TELL);
                }
                continue;
            }
        };
        let path = &path;
        if recursive && path.is_dir() {
            for entry in walkdir::WalkDir::new(path).follow_links(false) {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(error) => {
                        let _ = writeln!(std::io::stderr(), "platform-gate: {error}");
                        continue;
                    }
                };
                // Regular files only, as the directory says: no device, FIFO or socket is opened,
                // and no symlink followed, so each file is read once and no loop can happen.
                if !entry.file_type().is_file() {
                    continue;
                }
                match platform_gate_cli::read_file(entry.path(), &mut storage) {
                    Ok(found) => {
                        found_any = true;
                        let shown = entry.path().display().to_string();
                        if !print(&shown, &shown, &found, None) {
                            return Ok(ExitCode::from(CANNOT_TELL));
                        }
                    }
                    Err(FileError::Manifest(ReadError::NoManifest) | FileError::NotAFile { .. }) => {}
                    Err(error) => {
                        let _ =
                            writeln!(std::io::stderr(), "platform-gate: {}: {error}", entry.path().display());
                    }
                }
            }
            continue;
        }
        match manifests(path, &mut storage) {
            Ok(found) => {
                found_any = true;
                let shown = path.display().to_string();
                if !print(&shown, &shown, &found, None) {
                    return Ok(ExitCode::from(CANNOT_TELL));
                }
            }
            Err(message) => {
                let _ = writeln!(std::io::stderr(), "platform-gate: {message}");
                status = ExitCode::from(CANNOT_TELL);
            }
        }
    }
    if recursive && !found_any {
        let _ = writeln!(std::io::stderr(), "platform-gate: no gated binary found");
        return Ok(ExitCode::from(CANNOT_TELL));
    }
    Ok(status)
}

/// Where a binary of an image is: the image's platform entry, and its path in the image.
fn image_json(platform: &PlatformImage, path: &str, entrypoint: bool) -> Value {
    json!({
        "platform": {"os": platform.os, "architecture": platform.architecture, "variant": platform.variant},
        "manifest": platform.digest,
        "reference": platform.reference,
        "path": path,
        "entrypoint": entrypoint,
    })
}

/// The manifest as `docs/manifest.md`'s JSON table gives it.
fn to_json(manifest: &Manifest<'_>) -> Value {
    let policy = manifest.policy;
    let packager = policy.packager();
    let names = |features: Option<CpuFeatures>| -> Vec<&str> {
        features.iter().flat_map(|features| features.names()).collect()
    };
    json!({
        "format": manifest.format,
        "offset": manifest.offset,
        "program": manifest.program,
        "variable": manifest.variable,
        "crate_version": manifest.crate_version,
        "gate_version": manifest.gate_version,
        "platform": {
            "arch": manifest.platform.arch.go_name(),
            "arch_rust": manifest.platform.arch.rust_name(),
            "os": manifest.platform.os.go_name(),
            "os_rust": manifest.platform.os.rust_name(),
        },
        "policy": {
            "check": policy.check().name(),
            "allow": policy.allow().name(),
            "exit_code": policy.exit_code().get(),
        },
        "matrix": manifest.matrix().rows().iter().map(|row| json!({
            "arch": row.platform().arch.go_name(),
            "os": row.platform().os.go_name(),
            "status": row.status().to_string(),
            "maintainers": row.maintainers().iter().collect::<Vec<_>>(),
            "note": row.note(),
        })).collect::<Vec<_>>(),
        "cpu": {
            "features": names(manifest.cpu.assumed()),
            "level": manifest.cpu.level,
            "checked_before_start": names(manifest.cpu.before_start),
            "checked_in_main": names(manifest.cpu.in_main),
        },
        "packager": packager.map(|packager| json!({
            "name": packager.name(),
            "supports": packager.architectures().iter().map(|arch| arch.go_name()).collect::<Vec<_>>(),
        })),
    })
}

/// The manifest for people.
fn describe(label: &str, manifest: &Manifest<'_>) -> String {
    let policy = manifest.policy;
    let version = manifest.crate_version.map_or(String::new(), |version| format!(" {version}"));
    let cpu = match (manifest.cpu.assumed(), manifest.cpu.level) {
        (Some(assumed), level) if !assumed.is_empty() => {
            let names: Vec<&str> = assumed.names().collect();
            let level = if level >= 2 { format!("x86-64-v{level}: ") } else { String::new() };
            format!("{level}{}", names.join(", "))
        }
        (_, level) if level >= 1 => "x86-64 (the baseline)".to_string(),
        _ => "the architecture's baseline".to_string(),
    };
    let packager = policy.packager().map_or("none".to_string(), |packager| {
        let archs: Vec<&str> = packager.architectures().iter().map(|arch| arch.go_name()).collect();
        format!("{}, vouching for {}", packager.name(), archs.join(", "))
    });
    let check = match policy.check() {
        platform_gate::Check::Arch => "the architecture, on any OS",
        _ => "the (architecture, OS) pair",
    };
    let allow = match policy.allow() {
        platform_gate::Allow::Stable => "stable",
        _ => "stable and experimental",
    };
    let matrix: String =
        manifest.matrix().to_markdown().lines().map(|line| format!("    {line}\n")).collect();
    format!(
        "{file}: {program}{version}, gated by platform-gate {gate} (manifest format {format} at byte {offset})\n\
         \x20 built for: {platform:#}\n\
         \x20 CPU:       {cpu}\n\
         \x20 variable:  {variable}\n\
         \x20 policy:    judges {check}; {allow} start by themselves; a refusal exits {exit}\n\
         \x20 packager:  {packager}\n\
         \x20 matrix:\n{matrix}\n",
        file = label,
        program = manifest.program,
        gate = manifest.gate_version,
        format = manifest.format,
        offset = manifest.offset,
        platform = manifest.platform,
        variable = manifest.variable,
        exit = policy.exit_code(),
    )
}
