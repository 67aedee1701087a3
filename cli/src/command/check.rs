// `check FILE`: what a binary would do if started here (the exact bytes it would print, and its exit
// code), or with `--json` the same as one object; an image goes to `command/image.rs`.

use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ArgMatches;
use platform_gate::{CpuFeatures, Platform};
use platform_gate_cli::{Manifest, Prediction, RefusedBy, Start};

use crate::{CANNOT_TELL, image, one_manifest};

pub(crate) fn check(args: &ArgMatches) -> Result<ExitCode, String> {
    if let Some(image::Input::Image { name, platforms }) = image::inputs(args, "FILE")?.pop() {
        if let Some(flag) = ["env", "unset", "cpu-features", "json"]
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
    if let Some(why) = &unjudged {
        let _ =
            writeln!(stderr, "platform-gate: the CPU is not judged: {why}; give --cpu-features to judge one");
    }
    let _ = writeln!(stderr, "platform-gate: {}", summary(&manifest, &prediction, value.as_deref()));
    let out = match args.get_flag("json") {
        true => {
            format!("{}\n", check_json(path, &manifest, &prediction, value.as_deref(), unjudged.is_none()))
                .into_bytes()
        }
        // Exactly the binary's bytes: nothing else goes to stdout.
        false => prediction.stderr.clone(),
    };
    if std::io::stdout().lock().write_all(&out).is_err() {
        return Ok(ExitCode::from(CANNOT_TELL));
    }
    Ok(ExitCode::from(u8::from(prediction.refusal.is_some())))
}

/// `check --json`'s object (docs/check.schema.json).
fn check_json(
    path: &Path,
    manifest: &Manifest,
    prediction: &Prediction,
    value: Option<&OsStr>,
    cpu_judged: bool,
) -> serde_json::Value {
    let verdict = match prediction.refusal {
        Some(_) => "refuses",
        None if prediction.stderr.is_empty() => "starts",
        None => "warns",
    };
    serde_json::json!({
        "file": path.to_string_lossy(),
        "program": manifest.program,
        "variable": manifest.variable,
        "value": value.map(OsStr::to_string_lossy),
        "verdict": verdict,
        "refused_by": prediction.refused_by.map(|by| match by {
            RefusedBy::Platform => "platform",
            RefusedBy::CpuBeforeStart => "cpu-before-start",
            RefusedBy::CpuInMain => "cpu-in-main",
        }),
        "exit_code": prediction.refusal.unwrap_or(0),
        "stderr": String::from_utf8_lossy(&prediction.stderr),
        "cpu_judged": cpu_judged,
    })
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
