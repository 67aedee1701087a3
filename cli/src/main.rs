//! `platform-gate`: reads the support manifest of `#[platform_gated]` binaries without running
//! them. `platform-gate --help` lists the subcommands; the README's "Reading a binary's support"
//! section shows them at work.

use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use platform_gate::fleet::{CpuLabels, Node, RefusedBy as NodeRefusedBy};
use platform_gate::{CpuFeatures, Platform};
use platform_gate_cli::{Manifest, Prediction, RefusedBy, Start};
use serde_json::{Value, json};

/// Exit status when the command cannot answer: a bad file, a bad argument.
const CANNOT_TELL: u8 = 2;

fn command() -> Command {
    let files = || Arg::new("FILE").required(true).num_args(1..).value_parser(value_parser!(PathBuf));
    let program = || {
        Arg::new("program").long("program").value_name("NAME").help(
            "Of a file that holds several manifests (a binary that embeds others), the one whose program is NAME",
        )
    };
    let cpu_labels = || {
        Arg::new("cpu-labels")
            .long("cpu-labels")
            .value_name("LABELS")
            .value_parser(["nfd", "none"])
            .default_value("nfd")
            .help("Where nodes tell their CPU: Node Feature Discovery's labels, or none (the CPU is not judged)")
    };
    Command::new("platform-gate")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Reads the support manifest that #[platform_gated] binaries carry, without running them")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(
            Command::new("show")
                .about("Prints what each binary declares: program, platform, CPU, variable, policy and matrix")
                .arg(files())
                .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help("One JSON object per manifest, one per line")),
        )
        .subcommand(
            Command::new("check")
                .about("Says what the binary would do if started here: stdout gets exactly what it would write to stderr")
                .long_about(
                    "Says what the binary would do if started here. Stdout gets exactly the bytes it would write to \
                     stderr (nothing when it would start silently), stderr a summary. Exit status: 0 it would start, \
                     1 it would refuse, 2 cannot tell.",
                )
                .arg(Arg::new("FILE").required(true).value_parser(value_parser!(PathBuf)))
                .arg(
                    Arg::new("env")
                        .long("env")
                        .value_name("VALUE")
                        .value_parser(value_parser!(OsString))
                        .allow_hyphen_values(true)
                        .conflicts_with("unset")
                        .help("Judge the override variable as set to VALUE, instead of its value here"),
                )
                .arg(Arg::new("unset").long("unset").action(ArgAction::SetTrue).help("Judge the override variable as unset"))
                .arg(
                    Arg::new("cpu-features")
                        .long("cpu-features")
                        .value_name("LIST")
                        .help(
                            "Judge a CPU with exactly these features above the baseline (target_feature names, \
                             comma-separated; empty: the baseline). Without it, this machine's CPU is judged when \
                             the binary is for its architecture, and no CPU otherwise",
                        ),
                )
                .arg(program()),
        )
        .subcommand(
            Command::new("kubernetes")
                .about("Prints the node affinity for the nodes where every program of a pod starts without its variable")
                .long_about(
                    "Prints the node affinity for the nodes where a pod starts. The files are the pod's binaries: one \
                     or more programs (told apart by their manifests' program names), each for one or more platforms. \
                     A node is admitted when every program has a binary for its architecture and OS that starts there \
                     without its variable: by its matrix and policy, and by its CPU, read from Node Feature Discovery's \
                     labels. One term per platform. Notes go to stderr; exit 1 when no node can be admitted.",
                )
                .arg(files())
                .arg(program())
                .arg(
                    Arg::new("matrix")
                        .long("matrix")
                        .action(ArgAction::SetTrue)
                        .help("Also admit the architectures all the matrices admit for which no binary was given (their CPU is not judged)"),
                )
                .arg(cpu_labels()),
        )
        .subcommand(
            Command::new("nodes")
                .about("Says, node by node, whether a pod's binaries would start on the nodes of a cluster, and why not")
                .long_about(
                    "Says, node by node, whether a pod's binaries would start there: NODELIST is what `kubectl get nodes \
                     -o json` prints (or - for stdin), the files are the pod's binaries, as for `kubernetes`. Verdicts: \
                     starts, warns (starts with a warning), refuses (the matrix or the CPU), no-binary, cpu-unknown (the \
                     binaries assume CPU features and the node has no NFD labels). Exit 0 when every node starts, 1 when \
                     some does not, 2 when it cannot tell.",
                )
                .arg(Arg::new("NODELIST").required(true).value_parser(value_parser!(PathBuf)))
                .arg(files())
                .arg(program())
                .arg(
                    Arg::new("env")
                        .long("env")
                        .value_name("VALUE")
                        .value_parser(value_parser!(OsString))
                        .allow_hyphen_values(true)
                        .help("Judge the override variables as set to VALUE in the pod (default: unset)"),
                )
                .arg(cpu_labels())
                .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help("One JSON object per node, one per line")),
        )
        .subcommand(
            Command::new("docker")
                .about("Prints the `docker buildx build --platform` list where all the binaries start without their variable")
                .arg(files())
                .arg(program()),
        )
        .subcommand(Command::new("cpu").about(
            "Prints the CPU features the gate knows that this machine's CPU has, comma-separated, as --cpu-features takes them",
        ))
        .subcommand(
            Command::new("completions")
                .about("Prints a shell completion script")
                .arg(Arg::new("SHELL").required(true).value_parser(value_parser!(clap_complete::Shell))),
        )
}

fn main() -> ExitCode {
    let matches = command().get_matches();
    let result = match matches.subcommand() {
        Some(("show", args)) => show(args),
        Some(("check", args)) => check(args),
        Some(("kubernetes", args)) => kubernetes(args),
        Some(("nodes", args)) => nodes(args),
        Some(("docker", args)) => schedule(args, platform_gate::Schedule::docker_platforms),
        Some(("cpu", _)) => cpu(),
        Some(("completions", args)) => {
            let shell = *args.get_one::<clap_complete::Shell>("SHELL").expect("required");
            clap_complete::generate(shell, &mut command(), "platform-gate", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        _ => unreachable!("a subcommand is required"),
    };
    result.unwrap_or_else(|message| {
        let _ = writeln!(std::io::stderr(), "platform-gate: {message}");
        ExitCode::from(CANNOT_TELL)
    })
}

/// The manifests of `path`, or what is wrong with it.
fn manifests(path: &Path) -> Result<Vec<Manifest>, String> {
    if path.is_dir() {
        return Err(format!("{}: is a directory", path.display()));
    }
    let metadata = std::fs::metadata(path).map_err(|error| format!("{}: {error}", path.display()))?;
    if metadata.len() == 0 && metadata.is_file() {
        return Err(format!("{}: is empty", path.display()));
    }
    platform_gate_cli::read_file(path).map_err(|error| format!("{}: {error}", path.display()))
}

/// The one manifest of `path` to act on: its only one, or the one `--program` names.
fn one_manifest(path: &Path, args: &ArgMatches) -> Result<Manifest, String> {
    let mut found = manifests(path)?;
    let wanted = args.get_one::<String>("program");
    if let Some(wanted) = wanted {
        found.retain(|manifest| manifest.program == *wanted);
    }
    match (found.len(), wanted) {
        (1, _) => Ok(found.remove(0)),
        (0, Some(wanted)) => {
            Err(format!("{}: holds no manifest of a program named {wanted:?}", path.display()))
        }
        (count, _) => {
            let names: Vec<String> = found
                .iter()
                .map(|manifest| format!("{} (at byte {})", manifest.program, manifest.offset))
                .collect();
            Err(format!(
                "{}: holds {count} manifests, {}; pick one with --program NAME",
                path.display(),
                names.join(", ")
            ))
        }
    }
}

fn show(args: &ArgMatches) -> Result<ExitCode, String> {
    let json = args.get_flag("json");
    let mut status = ExitCode::SUCCESS;
    let mut stdout = std::io::stdout().lock();
    for path in args.get_many::<PathBuf>("FILE").expect("required") {
        let found = match manifests(path) {
            Ok(found) => found,
            Err(message) => {
                let _ = writeln!(std::io::stderr(), "platform-gate: {message}");
                status = ExitCode::from(CANNOT_TELL);
                continue;
            }
        };
        for manifest in &found {
            let text = if json {
                let mut object = to_json(manifest);
                object["file"] = Value::String(path.display().to_string());
                format!("{object}\n")
            } else {
                describe(path, manifest)
            };
            if stdout.write_all(text.as_bytes()).is_err() {
                return Ok(ExitCode::from(CANNOT_TELL));
            }
        }
    }
    Ok(status)
}

/// The manifest as the README's JSON schema gives it.
fn to_json(manifest: &Manifest) -> Value {
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
            "check": match policy.check() { platform_gate::Check::Arch => "arch", _ => "platform" },
            "allow": match policy.allow() { platform_gate::Allow::Stable => "stable", _ => "experimental" },
            "exit_code": policy.exit_code().get(),
        },
        "matrix": manifest.matrix.rows().iter().map(|row| json!({
            "arch": row.platform().arch.go_name(),
            "os": row.platform().os.go_name(),
            "status": row.status().to_string(),
            "maintainers": row.maintainers(),
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
fn describe(path: &Path, manifest: &Manifest) -> String {
    let policy = manifest.policy;
    let version = manifest.crate_version.as_deref().map_or(String::new(), |version| format!(" {version}"));
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
    let matrix: String = manifest.matrix.to_markdown().lines().map(|line| format!("    {line}\n")).collect();
    format!(
        "{file}: {program}{version}, gated by platform-gate {gate} (manifest format {format} at byte {offset})\n\
         \x20 built for: {platform:#}\n\
         \x20 CPU:       {cpu}\n\
         \x20 variable:  {variable}\n\
         \x20 policy:    judges {check}; {allow} start by themselves; a refusal exits {exit}\n\
         \x20 packager:  {packager}\n\
         \x20 matrix:\n{matrix}\n",
        file = path.display(),
        program = manifest.program,
        gate = manifest.gate_version,
        format = manifest.format,
        offset = manifest.offset,
        platform = manifest.platform,
        variable = manifest.variable,
        exit = policy.exit_code(),
    )
}

fn check(args: &ArgMatches) -> Result<ExitCode, String> {
    let path = args.get_one::<PathBuf>("FILE").expect("required");
    let manifest = one_manifest(path, args)?;
    let value: Option<OsString> = if args.get_flag("unset") {
        None
    } else if let Some(value) = args.get_one::<OsString>("env") {
        Some(value.clone())
    } else {
        std::env::var_os(&manifest.variable)
    };
    let arch = manifest.platform.arch;
    // The CPU to judge, or why there is none.
    let (cpu, unjudged) = match args.get_one::<String>("cpu-features") {
        Some(list) => {
            let names: Vec<&str> = list.split(',').map(str::trim).filter(|name| !name.is_empty()).collect();
            let features = CpuFeatures::from_names(arch, &names).ok_or_else(|| {
                format!("--cpu-features {list:?}: not features the gate knows for {arch:#} (see `platform-gate cpu`)")
            })?;
            (Some(features), None)
        }
        None if arch == Platform::CURRENT.arch => match CpuFeatures::of_this_cpu() {
            Some(features) => (Some(features), None),
            None => (None, Some("the gate cannot read this machine's CPU".to_string())),
        },
        None => {
            (None, Some(format!("the binary is for {arch:#}, this machine is {:#}", Platform::CURRENT.arch)))
        }
    };
    let file_name = path.file_name().map_or(&[][..], OsStr::as_encoded_bytes);
    let prediction = manifest.predict(&Start { value: value.as_deref(), cpu, file_name });
    let mut stderr = std::io::stderr().lock();
    if let Some(why) = unjudged {
        let _ =
            writeln!(stderr, "platform-gate: the CPU is not judged: {why}; give --cpu-features to judge one");
    }
    let _ = writeln!(stderr, "platform-gate: {}", summary(&manifest, &prediction, value.as_deref()));
    // Exactly the binary's bytes: nothing else goes to stdout.
    if std::io::stdout().lock().write_all(&prediction.stderr).is_err() {
        return Ok(ExitCode::from(CANNOT_TELL));
    }
    Ok(ExitCode::from(u8::from(prediction.refusal.is_some())))
}

fn summary(manifest: &Manifest, prediction: &Prediction, value: Option<&OsStr>) -> String {
    let variable = match value {
        None => format!("{} unset", manifest.variable),
        Some(value) => format!("{}={:?}", manifest.variable, value),
    };
    let program = &manifest.program;
    match (prediction.refusal, prediction.refused_by) {
        (None, _) if prediction.stderr.is_empty() => format!("{program} would start ({variable})"),
        (None, _) => format!("{program} would start, with a warning ({variable})"),
        (Some(code), Some(RefusedBy::CpuBeforeStart)) => {
            let how = if manifest.names_itself_before_start() {
                "naming itself from its manifest, as main would"
            } else if !manifest.cpu.reads_own_manifest {
                "generically: on its system that check does not read the binary's manifest"
            } else {
                "generically: the file holds other programs' manifests too, and the binary cannot tell which is its own"
            };
            format!("{program} would refuse this CPU before std starts, {how}, and exit {code}")
        }
        (Some(code), Some(RefusedBy::CpuInMain)) => {
            format!("{program} would refuse this CPU in main, and exit {code}")
        }
        (Some(code), _) => format!("{program} would refuse this platform, and exit {code} ({variable})"),
    }
}

/// The manifest of each of the pod's files: a file's only one, or the one `--program` names in a
/// file that holds several.
fn pod_manifests(args: &ArgMatches) -> Result<Vec<Manifest>, String> {
    let wanted = args.get_one::<String>("program");
    let mut all = Vec::new();
    for path in args.get_many::<PathBuf>("FILE").expect("required") {
        let found = manifests(path)?;
        if found.len() == 1 && wanted.is_none_or(|wanted| found[0].program == *wanted) {
            all.extend(found);
        } else {
            all.push(one_manifest(path, args)?);
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

fn kubernetes(args: &ArgMatches) -> Result<ExitCode, String> {
    let manifests = pod_manifests(args)?;
    let pod = platform_gate_cli::pod(&manifests).map_err(|error| error.to_string())?;
    let placement = pod.placement(cpu_labels(args), args.get_flag("matrix"));
    let mut stderr = std::io::stderr().lock();
    for note in &placement.notes {
        let _ = writeln!(stderr, "platform-gate: {note}");
    }
    let Some(affinity) = placement.kubernetes_node_affinity() else {
        let _ = writeln!(stderr, "platform-gate: no node where all of them start without their variable");
        // Nothing to print, and a script must not deploy that: exit 1, as `check` does for "no".
        return Ok(ExitCode::FAILURE);
    };
    std::io::stdout().lock().write_all(affinity.as_bytes()).map_err(|error| format!("stdout: {error}"))?;
    Ok(ExitCode::SUCCESS)
}

fn nodes(args: &ArgMatches) -> Result<ExitCode, String> {
    use std::io::Read as _;

    let manifests = pod_manifests(args)?;
    let pod = platform_gate_cli::pod(&manifests).map_err(|error| error.to_string())?;
    let path = args.get_one::<PathBuf>("NODELIST").expect("required");
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes).map_err(|error| format!("stdin: {error}"))?;
    } else {
        if path.is_dir() {
            return Err(format!("{}: is a directory", path.display()));
        }
        bytes = std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
    }
    let listed = platform_gate_cli::read_node_list(&bytes)?;
    drop(bytes);
    let value = args.get_one::<OsString>("env").map(OsString::as_os_str);
    let cpu = cpu_labels(args);
    if cpu == CpuLabels::None {
        let _ = writeln!(std::io::stderr(), "platform-gate: the CPU is not judged (--cpu-labels none)");
    }
    let json = args.get_flag("json");
    let width = listed.iter().map(|node| node.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    let mut all_start = true;
    for node in &listed {
        let labels: Vec<(&str, &str)> =
            node.labels.iter().map(|(key, value)| (key.as_str(), value.as_str())).collect();
        let judged = pod.judge(&Node { arch: &node.arch, os: &node.os, labels: &labels }, value, cpu);
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
                            NodeRefusedBy::Matrix => "matrix",
                            NodeRefusedBy::Cpu => "cpu",
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
                "programs": programs,
            });
            out.push_str(&format!("{object}\n"));
        } else {
            let mut line =
                judged.line(&node.name, &Node { arch: &node.arch, os: &node.os, labels: &labels }, width);
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

fn schedule(
    args: &ArgMatches,
    render: impl Fn(&platform_gate::Schedule) -> String,
) -> Result<ExitCode, String> {
    let mut all = Vec::new();
    for path in args.get_many::<PathBuf>("FILE").expect("required") {
        all.push(one_manifest(path, args)?);
    }
    let schedule = platform_gate_cli::schedule(&all).expect("at least one file");
    if schedule.is_empty() {
        let _ = writeln!(
            std::io::stderr(),
            "platform-gate: no platform where all of them start without their variable"
        );
        // Nothing to print, and a script must not deploy that: exit 1, as `check` does for "no".
        return Ok(ExitCode::FAILURE);
    }
    std::io::stdout()
        .lock()
        .write_all(render(&schedule).as_bytes())
        .map_err(|error| format!("stdout: {error}"))?;
    Ok(ExitCode::SUCCESS)
}

fn cpu() -> Result<ExitCode, String> {
    let features = CpuFeatures::of_this_cpu()
        .ok_or_else(|| format!("the gate cannot read this CPU ({:#})", Platform::CURRENT.arch))?;
    let names: Vec<&str> = features.names().collect();
    writeln!(std::io::stdout(), "{}", names.join(",")).map_err(|error| format!("stdout: {error}"))?;
    Ok(ExitCode::SUCCESS)
}
