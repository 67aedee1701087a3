// `kubernetes`, `nodes`, `nfd-rule` and `nfd-compat`: a pod's binaries against a cluster, as `platform-gate-fleet` places and
// judges them; this file reads the arguments and the node list, and prints.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ArgMatches;
use platform_gate::manifest::RefusedBy;
use platform_gate_cli::Manifest;
use platform_gate_fleet::{CpuLabels, NODE_NAME_LABEL, NfdRules, Note, Pod};
use serde_json::{Value, json};

use crate::image::Input;
use crate::{CANNOT_TELL, manifests, pick};

/// The manifest of each of the pod's files: a file's only one, or the one `--program` names in a
/// file that holds several; and the binaries of each image (`command/image.rs`).
fn pod_manifests<'a>(
    args: &ArgMatches,
    inputs: &'a [Input],
    storages: &'a mut Vec<Vec<u8>>,
) -> Result<Vec<Manifest<'a>>, String> {
    let wanted = args.get_one::<String>("program");
    storages.resize(inputs.len(), Vec::new());
    let mut all = Vec::new();
    for (input, storage) in inputs.iter().zip(storages) {
        let path = match input {
            Input::File(path) => path,
            Input::Image { name, platforms } => {
                all.extend(crate::image::pod_manifests(name, platforms, wanted)?);
                continue;
            }
        };
        let found = manifests(path, storage)?;
        if found.len() == 1 {
            all.extend(found);
        } else {
            all.push(pick(path, found, wanted)?);
        }
    }
    Ok(all)
}

fn cpu_labels(args: &ArgMatches) -> CpuLabels {
    match args.get_one::<String>("cpu-labels").map(String::as_str) {
        Some("none") => CpuLabels::None,
        _ => CpuLabels::Nfd,
    }
}

/// Each note on stderr, with the flag that brought it about or that places the pod without it,
/// which the library does not know of.
fn print_notes(notes: &[Note]) {
    let mut stderr = std::io::stderr().lock();
    for note in notes {
        let flag = match note {
            Note::CpuNotJudged => " (--cpu-labels none)",
            Note::MatrixOnly { .. } => " (--matrix)",
            Note::HiddenByDefault { .. } | Note::LevelLabels { .. } => {
                "; or place by NFD's unfiltered features, on every NFD release: `platform-gate nfd-rule` and --cpu-labels rule"
            }
            _ => "",
        };
        let _ = writeln!(stderr, "platform-gate: {note}{flag}");
    }
}

pub(crate) fn kubernetes(args: &ArgMatches) -> Result<ExitCode, String> {
    let (inputs, mut storages) = (crate::image::inputs(args, "FILE")?, Vec::new());
    let manifests = pod_manifests(args, &inputs, &mut storages)?;
    let pod = Pod::from_manifests(&manifests).map_err(|error| error.to_string())?;
    let matrix_only_too = args.get_flag("matrix");
    let value = args.get_one::<OsString>("env").map(OsString::as_os_str);
    let placement = match args.get_one::<String>("cpu-labels").map(String::as_str) {
        Some("rule") if value.is_some() => {
            return Err(
                "--env with --cpu-labels rule: the rule `nfd-rule` prints is for the platforms where \
                        the binaries start without their variable"
                    .to_string(),
            );
        }
        Some("rule") => pod.rule_placement(matrix_only_too).map_err(|error| error.to_string())?,
        _ => pod.placement_with_variable(value, cpu_labels(args), matrix_only_too),
    };
    print_notes(&placement.notes);
    let mut stderr = std::io::stderr().lock();
    let Some(affinity) = placement.kubernetes_node_affinity() else {
        let _ = writeln!(stderr, "platform-gate: no node where all of them start without their variable");
        // Nothing to print, and a script must not deploy that: exit 1, as `check` does for "no".
        return Ok(ExitCode::FAILURE);
    };
    std::io::stdout().lock().write_all(affinity.as_bytes()).map_err(|error| format!("stdout: {error}"))?;
    Ok(ExitCode::SUCCESS)
}

/// `docker`: the `docker buildx build --platform` list of the platforms where every program has a
/// binary that starts without its variable, as `kubernetes` places the pod (the CPU aside: an image
/// platform names none); with `--matrix`, also the matrices' platforms without a binary.
pub(crate) fn docker(args: &ArgMatches) -> Result<ExitCode, String> {
    let (inputs, mut storages) = (crate::image::inputs(args, "FILE")?, Vec::new());
    let manifests = pod_manifests(args, &inputs, &mut storages)?;
    let pod = Pod::from_manifests(&manifests).map_err(|error| error.to_string())?;
    let mut placement = pod.placement(CpuLabels::None, args.get_flag("matrix"));
    placement.notes.retain(|note| *note != Note::CpuNotJudged);
    print_notes(&placement.notes);
    let platforms = placement.docker_platforms();
    print_rendered((!platforms.is_empty()).then_some(platforms))
}

/// `rendered` on stdout, or where there is nothing, a line on stderr and exit 1: a script must
/// not deploy or build for no platform, and "no" is 1, as for `check`.
fn print_rendered(rendered: Option<String>) -> Result<ExitCode, String> {
    let Some(text) = rendered else {
        let _ = writeln!(
            std::io::stderr(),
            "platform-gate: no platform where all of them start without their variable"
        );
        return Ok(ExitCode::FAILURE);
    };
    std::io::stdout().lock().write_all(text.as_bytes()).map_err(|error| format!("stdout: {error}"))?;
    Ok(ExitCode::SUCCESS)
}

/// `nfd-rule` and `nfd-compat`: the pod's NFD rules, rendered by `render`.
pub(crate) fn nfd_rule(
    args: &ArgMatches,
    render: fn(&NfdRules) -> Option<String>,
) -> Result<ExitCode, String> {
    let (inputs, mut storages) = (crate::image::inputs(args, "FILE")?, Vec::new());
    let manifests = pod_manifests(args, &inputs, &mut storages)?;
    let pod = Pod::from_manifests(&manifests).map_err(|error| error.to_string())?;
    let rules = pod.nfd_rules().map_err(|error| error.to_string())?;
    print_notes(&rules.notes);
    print_rendered(render(&rules))
}

/// The bytes of `path`, or of stdin for `-`.
fn read_input(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;

    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes).map_err(|error| format!("stdin: {error}"))?;
    } else {
        if path.is_dir() {
            return Err(format!("{}: is a directory", path.display()));
        }
        bytes = std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
    }
    Ok(bytes)
}

pub(crate) fn nodes(args: &ArgMatches) -> Result<ExitCode, String> {
    let (inputs, mut storages) = (crate::image::inputs(args, "FILE")?, Vec::new());
    let manifests = pod_manifests(args, &inputs, &mut storages)?;
    let pod = Pod::from_manifests(&manifests).map_err(|error| error.to_string())?;
    let path = args.get_one::<PathBuf>("NODELIST").expect("required");
    let listed = platform_gate_fleet::read_node_list(&read_input(path)?)?;
    if listed.is_empty() {
        // Every node of none starts: exit 0, but say so, as a script would not see it otherwise.
        let _ = writeln!(std::io::stderr(), "platform-gate: {}: the node list has no nodes", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let features = match args.get_one::<PathBuf>("features") {
        Some(path) => {
            let read = platform_gate_fleet::read_node_features(&read_input(path)?)
                .map_err(|error| format!("{}: {error}", path.display()))?;
            let mut by_node = Vec::with_capacity(listed.len());
            for node in &listed {
                let found = read.iter().find(|(name, _)| *name == node.name).ok_or_else(|| {
                    format!(
                        "{}: no NodeFeature for node {} (none has its name in {NODE_NAME_LABEL})",
                        path.display(),
                        node.name
                    )
                })?;
                by_node.push(found.1.clone());
            }
            Some(by_node)
        }
        None => None,
    };
    let value = args.get_one::<OsString>("env").map(OsString::as_os_str);
    let cpu = cpu_labels(args);
    if cpu == CpuLabels::None {
        let _ = writeln!(std::io::stderr(), "platform-gate: the CPU is not judged (--cpu-labels none)");
    }
    let json = args.get_flag("json");
    let width = listed.iter().map(|node| node.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    let mut all_start = true;
    for (index, node) in listed.iter().enumerate() {
        let labels = node.label_pairs();
        let cpuid = features.as_ref().map(|features| features[index].as_ref());
        let judged = match cpuid {
            Some(Some(cpuid)) => pod.judge_by_features(&node.node(&labels), cpuid, value),
            _ => pod.judge(&node.node(&labels), value, cpu),
        };
        // Where the CPU was read, when --features was given: a NodeFeature without cpu.cpuid
        // (its NFD runs no CPU source) leaves the labels.
        let cpu_from = match cpuid {
            Some(Some(_)) => Some("features"),
            Some(None) => Some("labels"),
            None => None,
        };
        all_start &= judged.verdict.starts();
        if json {
            let programs: Vec<Value> = judged
                .programs
                .iter()
                .map(|program| {
                    json!({
                        "program": program.program,
                        "verdict": program.verdict.name(),
                        "refused_by": program.refused_by.map(|by| match by {
                            RefusedBy::Platform => "matrix",
                            RefusedBy::CpuBeforeStart | RefusedBy::CpuInMain => "cpu",
                        }),
                        "missing": program.missing,
                        "why": program.why,
                    })
                })
                .collect();
            let object = json!({
                "node": node.name,
                "platform": {"arch": node.arch, "os": node.os, "from_node_info": node.from_node_info},
                "verdict": judged.verdict.name(),
                "cpu_from": cpu_from,
                "programs": programs,
            });
            out.push_str(&format!("{object}\n"));
        } else {
            let mut line = judged.line(&node.name, &node.node(&labels), width);
            if cpu_from == Some("labels") {
                line.push_str(" (CPU from its labels: its NodeFeature has no cpu.cpuid)");
            } else if cpu_from == Some("features") {
                line.push_str(" (CPU from its NodeFeature)");
            }
            if node.from_node_info {
                line.push_str(" (its platform is from status.nodeInfo: without the kubernetes.io labels, no affinity admits it)");
            }
            out.push_str(&line);
            out.push('\n');
        }
    }
    if std::io::stdout().lock().write_all(out.as_bytes()).is_err() {
        return Ok(ExitCode::from(CANNOT_TELL));
    }
    Ok(if all_start { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `nfd-compat --attach oci:DIR[:REF]`: each platform's spec, made from that platform's own
/// binaries, attached to its manifest in the layout. Prints each artifact's digest; exit 1 when no
/// platform had a spec to attach.
pub(crate) fn nfd_attach(args: &ArgMatches, target: &Path) -> Result<ExitCode, String> {
    use platform_gate_fleet::image::{NFD_COMPAT_ARTIFACT_TYPE, NFD_COMPAT_SPEC_MEDIA_TYPE};

    let name = target.display().to_string();
    let image = crate::image::open(target)?.ok_or_else(|| format!("{name}: is not an OCI image layout"))?;
    let platforms = image.read(&crate::image::read_options(args)).map_err(|error| error.to_string())?;
    let wanted = args.get_one::<String>("program");
    let mut out = String::new();
    for platform in &platforms {
        let entry = crate::image::escaped(&platform.platform());
        let manifests = match crate::image::pod_manifests(&name, std::slice::from_ref(platform), wanted) {
            Ok(manifests) => manifests,
            Err(why) => {
                let _ = writeln!(std::io::stderr(), "platform-gate: {entry}: nothing attached: {why}");
                continue;
            }
        };
        let pod = Pod::from_manifests(&manifests).map_err(|error| error.to_string())?;
        let rules = pod.nfd_rules().map_err(|error| error.to_string())?;
        print_notes(&rules.notes);
        let Some(spec) = rules.image_compatibility() else {
            let _ = writeln!(
                std::io::stderr(),
                "platform-gate: {entry}: nothing attached: its binaries do not all start there without their variable"
            );
            continue;
        };
        let digest = image
            .attach(platform, NFD_COMPAT_ARTIFACT_TYPE, NFD_COMPAT_SPEC_MEDIA_TYPE, spec.as_bytes())
            .map_err(|error| error.to_string())?;
        out.push_str(&format!("{entry} {}: attached {digest}\n", platform.digest));
    }
    std::io::stdout().lock().write_all(out.as_bytes()).map_err(|error| format!("stdout: {error}"))?;
    Ok(if out.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
