//! Where `#[platform_gated]` binaries start, for schedulers, controllers and the `platform-gate`
//! command: a Kubernetes node affinity that admits exactly the nodes where every program of a pod
//! starts without its override variable, its CPU included (Node Feature Discovery's labels); a
//! verdict per node; a `docker buildx build --platform` list. Everything is judged from the manifest
//! each gated binary carries (`platform_gate::manifest`, read with the gate's feature `read`), by the
//! gate's own decision and CPU check.
//!
//! ```
//! # let bytes = include_bytes!("../../runtime/tests/fixtures/etcd.manifest");
//! use platform_gate::manifest::Manifest;
//! use platform_gate_fleet::{CpuLabels, Node, NodeVerdict, Pod};
//!
//! let etcd = Manifest::parse(bytes, 0)?; // a baseline amd64 Linux build, etcd's matrix
//! let pod = Pod::from_manifests([&etcd]).unwrap();
//! let affinity = pod.placement(CpuLabels::Nfd, false).kubernetes_node_affinity().unwrap();
//! assert!(affinity.contains("values:\n          - amd64\n"));
//! let arm64 = Node { arch: "arm64", os: "linux", labels: &[] };
//! assert_eq!(pod.judge(&arm64, None, CpuLabels::Nfd).verdict, NodeVerdict::NoBinary);
//! # Ok::<(), platform_gate::manifest::ReadError>(())
//! ```
//!
//! A program that only gates its `main` depends on `platform-gate` alone; this crate is for the
//! tools around it.

pub mod features;
pub mod image;
mod judge;
pub mod nfd;
mod nodes;
mod note;
mod placement;
mod pod;
mod rule;
mod schedule;
pub mod systemd;
mod yaml;

pub use crate::nodes::{ListedNode, NODE_NAME_LABEL, read_node_features, read_node_list};
pub use crate::note::Note;
pub use crate::pod::{
    Binary, CpuLabels, Node, NodeJudgement, NodeVerdict, Placement, Pod, PodError, ProgramVerdict, Term,
};
pub use crate::rule::{LabelError, NfdRules, PlatformRule, RULE_LABEL_NS, rule_label_name};
pub use crate::schedule::Schedule;

#[cfg(test)]
mod pod_tests;
