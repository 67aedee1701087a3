//! `platform-gate`: reads the support manifest of `#[platform_gated]` binaries without running
//! them. `platform-gate --help` lists the subcommands; `docs/command.md`
//! shows them at work.

use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use platform_gate::{CpuFeatures, Platform};
use platform_gate_cli::{Manifest, Prediction, RefusedBy, Start};
use platform_gate_fleet::Schedule;

#[path = "command/fleet.rs"]
mod fleet;
#[path = "command/image.rs"]
mod image;
#[path = "command/show.rs"]
mod show;
#[path = "command/systemd.rs"]
mod systemd;

/// Exit status when the command cannot answer: a bad file, a bad argument.
const CANNOT_TELL: u8 = 2;

fn command() -> Command {
    let files = || {
        Arg::new("FILE").required(true).num_args(1..).value_parser(value_parser!(PathBuf)).help(
            "A gated binary, or an image: an OCI image layout, an OCI archive or a `docker save` tarball (recognised by \
             what it holds), or oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:TAG] as skopeo names them",
        )
    };
    let program = || {
        Arg::new("program").long("program").value_name("NAME").help(
            "Of a file that holds several manifests (a binary that embeds others), the one whose program is NAME",
        )
    };
    let env = |help: &'static str| {
        Arg::new("env")
            .long("env")
            .value_name("VALUE")
            .value_parser(value_parser!(OsString))
            .allow_hyphen_values(true)
            .help(help)
    };
    let cpu_labels = || {
        Arg::new("cpu-labels")
            .long("cpu-labels")
            .value_name("LABELS")
            .value_parser(["nfd", "none"])
            .default_value("nfd")
            .help("Where nodes tell their CPU: Node Feature Discovery's labels, or none (the CPU is not judged)")
    };
    let placement_labels = || {
        cpu_labels().value_parser(["nfd", "rule", "none"]).help(
            "Which labels prove a node's CPU: Node Feature Discovery's CPU labels (nfd), the label of the \
             NodeFeatureRule that `nfd-rule` prints (rule: exact on every NFD release, from NFD's unfiltered \
             features), or none (the CPU is not judged)",
        )
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
                .arg(image::max_layer_size_arg())
                .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help("One JSON object per manifest, one per line"))
                .arg(
                    Arg::new("recursive").short('r').long("recursive").action(ArgAction::SetTrue).help(
                        "Walk each FILE that is a directory and show every gated binary under it (an unpacked image's \
                         root filesystem): symlinks are not followed, and other files than regular ones are skipped \
                         unopened. Exit 0 when it found a manifest, 2 when none",
                    ),
                ),
        )
        .subcommand(
            Command::new("check")
                .about("Says what the binary would do if started here: stdout gets exactly what it would write to stderr")
                .long_about(
                    "Says what the binary would do if started here. Stdout gets exactly the bytes it would write to \
                     stderr (nothing when it would start silently), stderr a summary. Exit status: 0 it would start, \
                     1 it would refuse, 2 cannot tell.",
                )
                .arg(Arg::new("FILE").required(true).value_parser(value_parser!(PathBuf)).help(
                    "A gated binary, or an image (as for `show`): each platform entry is judged against its binaries, \
                     their variables unset, and the exit status is 1 where an advertised platform would not start",
                ))
                .arg(image::max_layer_size_arg())
                .arg(env("Judge the override variable as set to VALUE, instead of its value here").conflicts_with("unset"))
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
                .arg(image::max_layer_size_arg())
                .arg(program())
                .arg(
                    Arg::new("matrix")
                        .long("matrix")
                        .action(ArgAction::SetTrue)
                        .help("Also admit the architectures all the matrices admit for which no binary was given (their CPU is not judged)"),
                )
                .arg(placement_labels()),
        )
        .subcommand(
            Command::new("nfd-rule")
                .about("Prints the NodeFeatureRule that labels the nodes whose CPU every program of a pod starts on")
                .long_about(
                    "Prints a NodeFeatureRule (nfd.k8s-sigs.io/v1alpha1) for a pod's binaries: per platform where every \
                     program has a binary that starts without its variable, a rule that requires, of NFD's unfiltered \
                     cpu.cpuid feature, every CPU feature those binaries assumed, and sets the label \
                     platform-gate.feature.node.kubernetes.io/PROGRAMS.OS-ARCH. Apply it, then place the pod with \
                     `kubernetes --cpu-labels rule`. Notes go to stderr; exit 1 when there is no rule.",
                )
                .arg(files())
                .arg(image::max_layer_size_arg())
                .arg(program()),
        )
        .subcommand(
            Command::new("nfd-compat")
                .about("Prints NFD's image-compatibility spec (v1alpha1) for an image of a pod's binaries")
                .long_about(
                    "Prints NFD's image-compatibility spec (v1alpha1, as `nfd compat validate-node` reads it) for an \
                     image of a pod's binaries: one compatibility set per platform, tagged OS/ARCH, with the rules \
                     `nfd-rule` prints. Notes go to stderr; exit 1 when there is no set. With --attach, the spec of each \
                     platform of an OCI image layout, made from that platform's own binaries, is written into the \
                     layout as NFD's artifact, its subject the platform's manifest, and no FILE is given.",
                )
                .arg(files().required(false).required_unless_present("attach").conflicts_with("attach"))
                .arg(image::max_layer_size_arg())
                .arg(program())
                .arg(
                    Arg::new("attach")
                        .long("attach")
                        .value_name("LAYOUT")
                        .value_parser(value_parser!(PathBuf))
                        .help("Attach each platform's spec to its manifest in the OCI image layout LAYOUT (oci:DIR[:REF], or DIR)"),
                ),
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
                .arg(image::max_layer_size_arg())
                .arg(program())
                .arg(env("Judge the override variables as set to VALUE in the pod (default: unset)"))
                .arg(cpu_labels())
                .arg(
                    Arg::new("features")
                        .long("features")
                        .value_name("NODEFEATURES")
                        .value_parser(value_parser!(PathBuf))
                        .conflicts_with("cpu-labels")
                        .help(
                            "Judge the CPU from NFD's unfiltered features instead of its labels: NODEFEATURES is what \
                             `kubectl get nodefeatures -A -o json` prints, matched to nodes by their \
                             nfd.node.kubernetes.io/node-name label",
                        ),
                )
                .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help("One JSON object per node, one per line")),
        )
        .subcommand(
            Command::new("docker")
                .about("Prints the `docker buildx build --platform` list where all the binaries start without their variable")
                .arg(files())
                .arg(image::max_layer_size_arg())
                .arg(program()),
        )
        .subcommand(systemd::command(program(), env, image::max_layer_size_arg()))
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
        Some(("show", args)) => show::show(args),
        Some(("check", args)) => check(args),
        Some(("kubernetes", args)) => fleet::kubernetes(args),
        Some(("nodes", args)) => fleet::nodes(args),
        Some(("nfd-rule", args)) => fleet::nfd_rule(args, platform_gate_fleet::NfdRules::node_feature_rule),
        Some(("nfd-compat", args)) => match args.get_one::<PathBuf>("attach") {
            Some(layout) => fleet::nfd_attach(args, layout),
            None => fleet::nfd_rule(args, platform_gate_fleet::NfdRules::image_compatibility),
        },
        Some(("docker", args)) => schedule(args, Schedule::docker_platforms),
        Some(("systemd", args)) => systemd::systemd(args),
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

/// The manifests of `path`, which borrow `storage`, or what is wrong with it.
fn manifests<'a>(path: &Path, storage: &'a mut Vec<u8>) -> Result<Vec<Manifest<'a>>, String> {
    let metadata = std::fs::metadata(path).map_err(|error| format!("{}: {error}", path.display()))?;
    if metadata.len() == 0 && metadata.is_file() {
        return Err(format!("{}: is empty", path.display()));
    }
    platform_gate_cli::read_file(path, storage).map_err(|error| format!("{}: {error}", path.display()))
}

/// The one manifest of `path` to act on: its only one, or the one `--program` names.
fn one_manifest<'a>(
    path: &Path,
    args: &ArgMatches,
    storage: &'a mut Vec<u8>,
) -> Result<Manifest<'a>, String> {
    pick(path, manifests(path, storage)?, args.get_one::<String>("program"))
}

/// Of `found`, the manifests `path` holds, the only one, or the one named `wanted`.
fn pick<'a>(
    path: &Path,
    mut found: Vec<Manifest<'a>>,
    wanted: Option<&String>,
) -> Result<Manifest<'a>, String> {
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

fn check(args: &ArgMatches) -> Result<ExitCode, String> {
    if let Some(image::Input::Image { name, platforms }) = image::inputs(args, "FILE")?.pop() {
        if let Some(flag) = ["env", "unset", "cpu-features"]
            .into_iter()
            .find(|flag| args.value_source(flag) == Some(clap::parser::ValueSource::CommandLine))
        {
            return Err(format!(
                "--{flag} judges one binary here; an image is judged entry by entry, each on its own platform, its variables unset"
            ));
        }
        return image::check(&name, &platforms, args.get_one::<String>("program"));
    }
    let path = args.get_one::<PathBuf>("FILE").expect("required");
    let mut storage = Vec::new();
    let manifest = one_manifest(path, args, &mut storage)?;
    let value: Option<OsString> = if args.get_flag("unset") {
        None
    } else if let Some(value) = args.get_one::<OsString>("env") {
        Some(value.clone())
    } else {
        std::env::var_os(manifest.variable)
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

fn schedule(args: &ArgMatches, render: impl Fn(&Schedule) -> String) -> Result<ExitCode, String> {
    let inputs = image::inputs(args, "FILE")?;
    let mut storages = vec![Vec::new(); inputs.len()];
    let mut all = Vec::new();
    for (input, storage) in inputs.iter().zip(&mut storages) {
        match input {
            image::Input::File(path) => all.push(one_manifest(path, args, storage)?),
            image::Input::Image { name, platforms } => {
                all.extend(image::pod_manifests(name, platforms, args.get_one::<String>("program"))?);
            }
        }
    }
    let schedule = Schedule::of_all(&all).expect("at least one file");
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
