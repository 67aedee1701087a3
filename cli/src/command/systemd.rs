// `systemd FILE`: the drop-in for the unit that runs a gated binary, or an image's entrypoint on this
// host's platform (its binary picked as `kubernetes` picks an image's binaries), rendered by
// `platform-gate-fleet`'s systemd module; this file only picks the manifest and words the answer.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use platform_gate::Platform;
use platform_gate_cli::Manifest;
use platform_gate_fleet::image::PlatformImage;
use platform_gate_fleet::systemd::{DropInError, DropInOptions, ExecCondition, drop_in};

use crate::image::{self, Input, escaped};

/// The subcommand, with the arguments every subcommand shares: `--program`, `--env` (given its
/// help) and `--max-layer-size`.
pub(crate) fn command(program: Arg, env: impl Fn(&'static str) -> Arg, max_layer_size: Arg) -> Command {
    Command::new("systemd")
        .about("Prints a systemd drop-in that skips the binary's unit where the binary would refuse")
        .long_about(
            "Prints a drop-in (for /etc/systemd/system/UNIT.service.d/) for the unit that runs the binary: \
             ConditionArchitecture= and ConditionCPUFeature= lines for what it requires, so that systemd \
             skips the unit where it would refuse (no start, no failure, no restart loop), and \
             RestartPreventExitStatus= with its refusal exit codes. CPU features systemd has no name for are \
             named on stderr; --exec-condition checks them. Exit 0 with a drop-in, 1 where the binary refuses \
             its platform with its variable as the unit sets it (no drop-in), 2 when it cannot tell.",
        )
        .arg(Arg::new("FILE").required(true).value_parser(value_parser!(PathBuf)).help(
            "A gated binary for Linux, or an image (as for `show`): the program its entry for this host's \
             platform starts",
        ))
        .arg(max_layer_size)
        .arg(program)
        .arg(env("What the unit's environment sets the override variable to: judged so, and set with Environment="))
        .arg(Arg::new("assert").long("assert").action(ArgAction::SetTrue).help(
            "AssertArchitecture= and AssertCPUFeature= in place of the Condition lines: a start where they fail is \
             a failed job, logged loudly",
        ))
        .arg(
            Arg::new("exec-condition")
                .long("exec-condition")
                .value_name("PATH")
                .value_parser(value_parser!(PathBuf))
                .help(
                    "Add ExecCondition=PATH check BINARY, PATH being platform-gate's absolute path on the unit's \
                     host: the gate's own check of everything, CPU features systemd cannot name included \
                     (exit 0 starts; 1 refuses and 2 cannot tell, which systemd both skips)",
                ),
        )
        .after_long_help(
            "Not here: --matrix and --cpu-labels. A unit runs one binary on its host, whose CPU systemd checks \
             itself.",
        )
}

pub(crate) fn systemd(args: &ArgMatches) -> Result<ExitCode, String> {
    let input = image::inputs(args, "FILE")?.pop().expect("one FILE");
    let wanted = args.get_one::<String>("program");
    let mut storage = Vec::new();
    let (name, manifest, binary_path) = match &input {
        Input::File(path) => {
            let manifest = crate::one_manifest(path, args, &mut storage)?;
            let absolute =
                std::path::absolute(path).map_err(|error| format!("{}: {error}", path.display()))?;
            (path.display().to_string(), manifest, Some(absolute))
        }
        Input::Image { name, platforms } => {
            (name.clone(), entrypoint_manifest(name, platforms, wanted)?, None)
        }
    };
    let command = args.get_one::<PathBuf>("exec-condition");
    let exec_condition = match (command, &binary_path) {
        (None, _) => None,
        (Some(command), _) if !command.is_absolute() => {
            return Err(format!(
                "--exec-condition {}: give the absolute path of platform-gate on the unit's host",
                command.display()
            ));
        }
        (Some(_), None) => {
            return Err(format!(
                "{name}: --exec-condition checks a binary at a path on the unit's host; an image's binary runs in a \
                 container: give the binary itself"
            ));
        }
        (Some(command), Some(binary)) => {
            Some(ExecCondition { command: command.as_os_str(), binary: binary.as_os_str() })
        }
    };
    let options = DropInOptions {
        value: args.get_one::<OsString>("env").map(OsString::as_os_str),
        assert: args.get_flag("assert"),
        exec_condition,
    };
    let mut stderr = std::io::stderr().lock();
    let rendered = match drop_in(&manifest, &options) {
        Ok(rendered) => rendered,
        Err(DropInError::Refused { headline }) => {
            let hint = match options.value {
                None => {
                    format!("; if the unit's environment sets {}, say so with --env VALUE", manifest.variable)
                }
                Some(_) => String::new(),
            };
            let _ = writeln!(stderr, "platform-gate: {name}: {headline}: no drop-in{hint}");
            return Ok(ExitCode::FAILURE);
        }
        Err(error) => return Err(format!("{name}: {error}")),
    };
    if !rendered.unnamed.is_empty() {
        let what = match options.exec_condition {
            Some(_) => "its ExecCondition= checks them before each start".to_string(),
            None => {
                "no line of the drop-in checks them before a start; --exec-condition PATH adds one that does"
                    .to_string()
            }
        };
        let _ = writeln!(
            stderr,
            "platform-gate: {name}: systemd has no ConditionCPUFeature= for {}: {what}",
            rendered.unnamed.join(", ")
        );
    }
    if std::io::stdout().lock().write_all(rendered.text.as_bytes()).is_err() {
        return Ok(ExitCode::from(crate::CANNOT_TELL));
    }
    Ok(ExitCode::SUCCESS)
}

/// Of an image, the manifest of the program its entry for this host's platform starts (or the one
/// `wanted` names), picked as `kubernetes` picks an image's binaries.
fn entrypoint_manifest<'a>(
    name: &str,
    platforms: &'a [PlatformImage],
    wanted: Option<&String>,
) -> Result<Manifest<'a>, String> {
    let host = Platform::CURRENT;
    let (os, arch) = (host.os.go_name(), host.arch.go_name());
    let pulled = |entry: &&PlatformImage| {
        entry.os == os && entry.architecture == arch && image::picked_by_hosts(entry)
    };
    let entry = platforms.iter().find(pulled).ok_or_else(|| {
        let entries: Vec<String> = platforms.iter().map(|entry| escaped(&entry.platform())).collect();
        format!("{name}: no entry for this host's platform, {os}/{arch}; it has {}", entries.join(", "))
    })?;
    let program = match wanted {
        Some(program) => program.clone(),
        None => {
            let entrypoint = entry.binaries.iter().find(|binary| binary.entrypoint).ok_or_else(|| {
                let command = entry.command.first().map_or("no command".to_string(), |word| escaped(word));
                format!(
                    "{name} {}: its entrypoint ({command}) is not a gated binary; name the program with --program",
                    escaped(&entry.platform())
                )
            })?;
            let manifests = image::manifests_of(name, entry, entrypoint)?;
            crate::pick(Path::new(&entrypoint.path), manifests, None)?.program.to_string()
        }
    };
    let mut manifests = image::pod_manifests(name, std::slice::from_ref(entry), Some(&program))?;
    Ok(manifests.remove(0))
}
