// The nodes of a cluster, from what `kubectl get nodes -o json` prints: names, platforms and labels,
// or one line that says why the bytes are not that.

/// A node of a `NodeList`: its name, platform and labels.
///
/// ```
/// let list = br#"{"kind": "List", "items": [{"kind": "Node", "metadata": {"name": "edge-1",
///     "labels": {"kubernetes.io/arch": "arm64", "kubernetes.io/os": "linux"}}}]}"#;
/// let nodes = platform_gate_fleet::read_node_list(list).unwrap();
/// assert_eq!((nodes[0].name.as_str(), nodes[0].arch.as_str(), nodes[0].from_node_info), ("edge-1", "arm64", false));
/// let labels = nodes[0].label_pairs();
/// let node = nodes[0].node(&labels);
/// assert_eq!(node.os, "linux");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedNode {
    /// `metadata.name`.
    pub name: String,
    /// Its architecture: `kubernetes.io/arch`, else `status.nodeInfo.architecture`.
    pub arch: String,
    /// Its OS: `kubernetes.io/os`, else `status.nodeInfo.operatingSystem`.
    pub os: String,
    /// Whether the platform came from `status.nodeInfo`, without the labels the scheduler matches.
    pub from_node_info: bool,
    /// `metadata.labels`.
    pub labels: Vec<(String, String)>,
}

use crate::features::NodeCpuid;
use crate::pod::Node;

/// The longest label value Kubernetes admits.
const LONGEST_LABEL_VALUE: usize = 63;

/// The nodes of what `kubectl get nodes -o json` prints (a `List` of `Node`s; a `NodeList` too), or
/// of one `Node` (`kubectl get node NAME -o json`), or a one-line reason why it is not that.
///
/// ```
/// let error = platform_gate_fleet::read_node_list(br#"{"kind": "Pod"}"#).unwrap_err();
/// assert_eq!(error, "the node list is not a Node or a List of Nodes: it has kind \"Pod\"; expected what `kubectl get nodes -o json` prints");
/// let one = br#"{"kind": "Node", "metadata": {"name": "edge-1", "labels": {"kubernetes.io/arch": "arm64", "kubernetes.io/os": "linux"}}}"#;
/// assert_eq!(platform_gate_fleet::read_node_list(one).unwrap()[0].name, "edge-1");
/// ```
pub fn read_node_list(bytes: &[u8]) -> Result<Vec<ListedNode>, String> {
    use serde_json::Value;

    const EXPECTED: &str = "expected what `kubectl get nodes -o json` prints";
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(format!("the node list is empty; {EXPECTED}"));
    }
    let items = list_items(bytes, "node", "List", "Node", EXPECTED)?;
    let mut nodes = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let name = item
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("item {index} of the List has no metadata.name"))?
            .to_string();
        let mut labels = Vec::new();
        if let Some(map) = item.pointer("/metadata/labels").filter(|labels| !labels.is_null()) {
            let map =
                map.as_object().ok_or_else(|| format!("node {name}: metadata.labels is not an object"))?;
            for (key, value) in map {
                let value = value
                    .as_str()
                    .ok_or_else(|| format!("node {name}: label {key}'s value is not a string"))?;
                if value.len() > LONGEST_LABEL_VALUE {
                    return Err(format!(
                        "node {name}: label {key}'s value is {} bytes, and Kubernetes allows at most {LONGEST_LABEL_VALUE}",
                        value.len()
                    ));
                }
                labels.push((key.clone(), value.to_string()));
            }
        }
        let label = |key: &str| labels.iter().find(|(name, _)| name == key).map(|(_, value)| value.clone());
        let info = |field: &str| {
            item.pointer(&format!("/status/nodeInfo/{field}")).and_then(Value::as_str).map(str::to_string)
        };
        let (arch, os) = (label("kubernetes.io/arch"), label("kubernetes.io/os"));
        let from_node_info = arch.is_none() || os.is_none();
        let arch = arch.or_else(|| info("architecture")).ok_or_else(|| {
            format!("node {name} has no architecture: no kubernetes.io/arch label and no status.nodeInfo.architecture")
        })?;
        let os = os.or_else(|| info("operatingSystem")).ok_or_else(|| {
            format!("node {name} has no OS: no kubernetes.io/os label and no status.nodeInfo.operatingSystem")
        })?;
        nodes.push(ListedNode { name, arch, os, from_node_info, labels });
    }
    Ok(nodes)
}

impl ListedNode {
    /// Its labels as the pairs [`Node::labels`] borrows.
    pub fn label_pairs(&self) -> Vec<(&str, &str)> {
        self.labels.iter().map(|(key, value)| (key.as_str(), value.as_str())).collect()
    }

    /// The node a pod is judged on, with `labels` from [`ListedNode::label_pairs`].
    pub fn node<'a>(&'a self, labels: &'a [(&'a str, &'a str)]) -> Node<'a> {
        Node { arch: &self.arch, os: &self.os, labels }
    }
}

/// The label NFD puts on each `NodeFeature` object: the name of the node it describes.
pub const NODE_NAME_LABEL: &str = "nfd.node.kubernetes.io/node-name";

/// The longest flag or attribute name NFD can turn into a label (`cpu-cpuid.` and the name, at
/// most 63 characters): a longer one is not NFD's.
const LONGEST_CPUID_NAME: usize = 63 - "cpu-cpuid.".len();

/// The `cpu.cpuid` feature of each node, by the node's name, from what `kubectl get nodefeatures
/// -A -o json` prints (NFD's `NodeFeature` objects, `nfd.k8s-sigs.io/v1alpha1`); `None` for a
/// node whose object has no `cpu.cpuid` (its NFD worker runs no CPU source). Or one line that says
/// why the bytes are not that.
///
/// ```
/// let list = br#"{"kind": "List", "items": [{"kind": "NodeFeature",
///   "metadata": {"name": "n1-x", "labels": {"nfd.node.kubernetes.io/node-name": "n1"}},
///   "spec": {"features": {"flags": {"cpu.cpuid": {"elements": {"AVX": {}, "AVX2": {}}}},
///                         "attributes": {"cpu.cpuid": {"elements": {"AVX10_VERSION": "1"}}}}}}]}"#;
/// let read = platform_gate_fleet::read_node_features(list).unwrap();
/// assert_eq!(read[0].0, "n1");
/// assert!(read[0].1.as_ref().unwrap().flags.contains("AVX2"));
/// ```
pub fn read_node_features(bytes: &[u8]) -> Result<Vec<(String, Option<NodeCpuid>)>, String> {
    use serde_json::Value;

    const EXPECTED: &str = "expected what `kubectl get nodefeatures -A -o json` prints";
    let items = list_items(bytes, "NodeFeature", "NodeFeature List", "NodeFeature", EXPECTED)?;
    let mut read = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let node = item
            .pointer("/metadata/labels")
            .and_then(|labels| labels.get(NODE_NAME_LABEL))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("item {index} of the NodeFeature List has no {NODE_NAME_LABEL} label"))?
            .to_string();
        if read.iter().any(|(seen, _)| *seen == node) {
            return Err(format!("two NodeFeatures for node {node}"));
        }
        let flags = item.pointer("/spec/features/flags/cpu.cpuid/elements");
        let Some(flags) = flags else {
            read.push((node, None));
            continue;
        };
        let not_object = |what: &str| format!("the NodeFeature of node {node}: {what} is not an object");
        let flags = flags.as_object().ok_or_else(|| not_object("flags' cpu.cpuid elements"))?;
        let mut cpuid = NodeCpuid::default();
        let attributes = item.pointer("/spec/features/attributes/cpu.cpuid/elements");
        let attributes = match attributes {
            Some(attributes) => {
                attributes.as_object().ok_or_else(|| not_object("attributes' cpu.cpuid elements"))?
            }
            None => &serde_json::Map::new(),
        };
        for name in flags.keys().chain(attributes.keys()) {
            if name.len() > LONGEST_CPUID_NAME {
                return Err(format!(
                    "the NodeFeature of node {node}: cpu.cpuid has a {}-byte name, over the {LONGEST_CPUID_NAME} \
                     that NFD's labels allow, so not NFD's",
                    name.len()
                ));
            }
        }
        cpuid.flags.extend(flags.keys().cloned());
        for (name, value) in attributes {
            let value = value.as_str().ok_or_else(|| {
                format!("the NodeFeature of node {node}: cpu.cpuid attribute {name}'s value is not a string")
            })?;
            cpuid.attributes.insert(name.clone(), value.to_string());
        }
        read.push((node, Some(cpuid)));
    }
    Ok(read)
}

/// The items of a Kubernetes List (`kind: List` or `{kind}List`) of `kind` objects, each checked to
/// be one where it names its kind; or the line that says why not, which calls the bytes `the {noun}
/// list` and the List `the {list}`, and ends with `expected`.
fn list_items(
    bytes: &[u8],
    noun: &str,
    list: &str,
    kind: &str,
    expected: &str,
) -> Result<Vec<serde_json::Value>, String> {
    use serde_json::Value;

    let mut value: Value =
        serde_json::from_slice(bytes).map_err(|error| format!("the {noun} list is not JSON: {error}"))?;
    let list_kind = value.get("kind").and_then(Value::as_str);
    // One object, as `kubectl get node NAME -o json` prints it.
    if list_kind == Some(kind) {
        return Ok(vec![value]);
    }
    if !list_kind.is_some_and(|list_kind| list_kind == "List" || list_kind.strip_suffix("List") == Some(kind))
    {
        let what = list_kind.map_or_else(|| "no kind".to_string(), |list_kind| format!("kind {list_kind:?}"));
        return Err(format!(
            "the {noun} list is not a {kind} or a List of {kind}s: it has {what}; {expected}"
        ));
    }
    let Some(Value::Array(items)) = value.get_mut("items").map(Value::take) else {
        return Err(format!("the {list} has no items array; {expected}"));
    };
    for (index, item) in items.iter().enumerate() {
        if let Some(other) = item.get("kind").and_then(Value::as_str).filter(|other| *other != kind) {
            return Err(format!("item {index} of the {list} is a {other}, not a {kind}"));
        }
    }
    Ok(items)
}
