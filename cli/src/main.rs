//! `platform-gate`: reads the support manifest of `#[platform_gated]` binaries without running
//! them. `platform-gate --help` lists the subcommands; `docs/command.md`
//! shows them at work.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use platform_gate::{CpuFeatures, Platform};
use platform_gate_cli::Manifest;

#[path = "command/check.rs"]
mod check;
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
                .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help(
                    "Of a binary, one JSON object on stdout (docs/check.schema.json) instead of the bytes: the \
                     verdict, the exit code it would use, and the text it would print",
                ))
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
                .arg(program())
                .after_long_help(
                    "Not here: --matrix and --cpu-labels. `check` judges one binary on this machine, or on the CPU \
                     --cpu-features names.",
                ),
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
                .arg(env(
                    "Place the pod with the override variables set to VALUE in it (default: unset): a platform \
                     VALUE names is admitted where a matrix leaves it out. Not with --cpu-labels rule, whose rule \
                     is for platforms that start without it",
                ))
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
                .arg(program())
                .after_long_help(
                    "Not here: --env, --matrix and --cpu-labels. A rule labels the nodes whose CPU has what the \
                     binaries assumed, where they start without their variable; `kubernetes --cpu-labels rule` reads it.",
                ),
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
                )
                .after_long_help(
                    "Not here: --env, --matrix and --cpu-labels, as for `nfd-rule`.",
                ),
        )
        .subcommand(
            Command::new("nodes")
                .about("Says, node by node, whether a pod's binaries would start on the nodes of a cluster, and why not")
                .long_about(
                    "Says, node by node, whether a pod's binaries would start there: NODELIST is what `kubectl get nodes \
                     -o json` prints, or one node's `kubectl get node NAME -o json` (or - for stdin), the files are the pod's binaries, as for `kubernetes`. Verdicts: \
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
                .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help("One JSON object per node, one per line"))
                .after_long_help(
                    "Not here: --matrix, which is `kubernetes`' and `docker`'s: a node runs a binary, so a node of a \
                     platform no binary is for is no-binary, whatever the matrices admit.",
                ),
        )
        .subcommand(
            Command::new("docker")
                .about("Prints the `docker buildx build --platform` list where all the binaries start without their variable")
                .long_about(
                    "Prints the `docker buildx build --platform` list of the platforms where every program has a \
                     binary that starts without its variable, as `kubernetes` places a pod of them. Notes go to \
                     stderr; exit 1 when there is no platform.",
                )
                .arg(files())
                .arg(image::max_layer_size_arg())
                .arg(program())
                .arg(
                    Arg::new("matrix")
                        .long("matrix")
                        .action(ArgAction::SetTrue)
                        .help("Also list the architectures all the matrices admit for which no binary was given"),
                )
                .after_long_help(
                    "Not here: --env and --cpu-labels. An image is built for a platform, not started: no variable \
                     is set and no CPU is judged.",
                ),
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
        Some(("check", args)) => check::check(args),
        Some(("kubernetes", args)) => fleet::kubernetes(args),
        Some(("nodes", args)) => fleet::nodes(args),
        Some(("nfd-rule", args)) => fleet::nfd_rule(args, platform_gate_fleet::NfdRules::node_feature_rule),
        Some(("nfd-compat", args)) => match args.get_one::<PathBuf>("attach") {
            Some(layout) => fleet::nfd_attach(args, layout),
            None => fleet::nfd_rule(args, platform_gate_fleet::NfdRules::image_compatibility),
        },
        Some(("docker", args)) => fleet::docker(args),
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

fn cpu() -> Result<ExitCode, String> {
    let features = CpuFeatures::of_this_cpu()
        .ok_or_else(|| format!("the gate cannot read this CPU ({:#})", Platform::CURRENT.arch))?;
    let names: Vec<&str> = features.names().collect();
    writeln!(std::io::stdout(), "{}", names.join(",")).map_err(|error| format!("stdout: {error}"))?;
    Ok(ExitCode::SUCCESS)
}
