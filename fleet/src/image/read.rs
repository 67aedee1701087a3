// An image opened (by skopeo's transport names, or recognised by what it holds), and read: each
// platform's filesystem built from its layers, read in parallel and applied in order, and the
// gated binaries in it, the entrypoint first.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use platform_gate::manifest::{Manifest, ReadError};

use crate::image::error::ImageError;
use crate::image::layer::{ReadLayer, read_layer};
use crate::image::scan::Found;
use crate::image::store::Store;
use crate::image::tree::{Node, Start, Tree};
use crate::image::walk::{self, PlatformManifest};

/// skopeo's names for the image formats this reader takes, each followed by a path and, after a
/// `:`, the image to pick where the layout or tarball holds several (`oci:DIR:REF`).
pub const TRANSPORTS: [&str; 3] = ["oci:", "oci-archive:", "docker-archive:"];

/// How an image is stored.
///
/// ```no_run
/// use platform_gate_fleet::image::{Image, ImageFormat};
///
/// let image = Image::open("oci-archive:kvd.tar")?;
/// assert_eq!(image.format(), ImageFormat::OciArchive);
/// # Ok::<(), platform_gate_fleet::image::ImageError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageFormat {
    /// An OCI image layout: a directory with `oci-layout` and `index.json`.
    Layout,
    /// An OCI image layout in a tar (`oci-archive:`).
    OciArchive,
    /// What `docker save` (and skopeo's `docker-archive:`) writes.
    DockerArchive,
}

/// An image, opened: its index is read by [`Image::read`].
///
/// ```no_run
/// use platform_gate_fleet::image::{Image, ImageFormat};
///
/// let image = Image::recognise("kvd.tar".as_ref())?.expect("an image");
/// assert_eq!(image.format(), ImageFormat::DockerArchive);
/// # Ok::<(), platform_gate_fleet::image::ImageError>(())
/// ```
pub struct Image {
    store: Store,
    format: ImageFormat,
    reference: Option<String>,
}

impl core::fmt::Debug for Image {
    /// Its format, path and reference (not the archive's list of files).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Image")
            .field("format", &self.format)
            .field("path", &self.path())
            .field("reference", &self.reference)
            .finish_non_exhaustive()
    }
}

/// What reading an image may cost.
///
/// ```
/// let options = platform_gate_fleet::image::ReadOptions { max_layer_size: 1 << 30, ..Default::default() };
/// assert!(options.threads >= 1);
/// ```
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// The most bytes a layer may decompress to before it is refused as a decompression bomb.
    pub max_layer_size: u64,
    /// How many layers are read at once.
    pub threads: usize,
}

impl Default for ReadOptions {
    /// 16 GiB a layer; one thread per core.
    fn default() -> ReadOptions {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        ReadOptions { max_layer_size: 16 << 30, threads }
    }
}

/// One platform's image: its entry in the index, what it starts, and its gated binaries.
///
/// ```no_run
/// let image = platform_gate_fleet::image::Image::open("oci:build/kvd:1.4")?;
/// for platform in image.read(&Default::default())? {
///     let entrypoint = platform.entrypoint.as_deref().unwrap_or("no file of the image");
///     println!("{} starts {entrypoint}, has {} gated binaries", platform.platform(), platform.binaries.len());
/// }
/// # Ok::<(), platform_gate_fleet::image::ImageError>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct PlatformImage {
    /// The OS its entry advertises (the config's where no index says).
    pub os: String,
    /// The architecture its entry advertises, in Go's spelling (`amd64`, `arm64`).
    pub architecture: String,
    /// The variant its entry advertises (`v3` of `amd64`, `v7` of `arm`), if any.
    pub variant: Option<String>,
    /// Its manifest's digest; for a `docker save` tarball, its config's (the image ID).
    pub digest: String,
    /// Its name in the layout (`org.opencontainers.image.ref.name`) or its tag in the tarball.
    pub reference: Option<String>,
    /// What a container starts: the config's `Entrypoint`, then its `Cmd`.
    pub command: Vec<String>,
    /// The regular file the command's first word resolves to, through `PATH` and symlinks inside
    /// the image; `None` where it resolves to none.
    pub entrypoint: Option<String>,
    /// Every gated binary of its filesystem, the entrypoint first, then by path; a file hard-linked
    /// under several names is given once.
    pub binaries: Vec<ImageBinary>,
    /// The bytes its layers decompressed to.
    pub decompressed: u64,
    /// Its manifest's media type and size, where it has a manifest (not in a `docker save` tarball):
    /// what an attached artifact's `subject` names.
    pub(crate) subject: Option<(String, u64)>,
}

impl PlatformImage {
    /// `os/architecture[/variant]`, as `docker` and the index name platforms.
    ///
    /// ```no_run
    /// # let platforms = platform_gate_fleet::image::Image::open("oci:kvd")?.read(&Default::default())?;
    /// assert_eq!(platforms[0].platform(), "linux/amd64/v3");
    /// # Ok::<(), platform_gate_fleet::image::ImageError>(())
    /// ```
    pub fn platform(&self) -> String {
        match &self.variant {
            Some(variant) => format!("{}/{}/{variant}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

/// A file of an image that holds manifests.
///
/// ```no_run
/// # let platforms = platform_gate_fleet::image::Image::open("oci:kvd")?.read(&Default::default())?;
/// let entrypoint = platforms[0].binaries.iter().find(|binary| binary.entrypoint);
/// assert_eq!(entrypoint.map(|binary| binary.path.as_str()), Some("/usr/bin/kvd"));
/// # Ok::<(), platform_gate_fleet::image::ImageError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ImageBinary {
    /// Its path in the image, from `/`.
    pub path: String,
    /// Whether it is what the image's command starts.
    pub entrypoint: bool,
    found: Arc<Found>,
}

impl ImageBinary {
    /// Its manifests, as the command's reader gives them for a file on disk.
    ///
    /// ```no_run
    /// # let platforms = platform_gate_fleet::image::Image::open("oci:kvd")?.read(&Default::default())?;
    /// let kvd = &platforms[0].binaries[0];
    /// assert_eq!(kvd.manifests().unwrap()[0].program, "kvd");
    /// # Ok::<(), platform_gate_fleet::image::ImageError>(())
    /// ```
    pub fn manifests(&self) -> Result<Vec<Manifest<'_>>, ReadError> {
        self.found.manifests()
    }
}

impl Image {
    /// The image `source` names: `oci:DIR[:REF]`, `oci-archive:FILE[:REF]`,
    /// `docker-archive:FILE[:TAG]`, or a path that [`Image::recognise`] recognises.
    ///
    /// ```
    /// let error = platform_gate_fleet::image::Image::open("oci-archive:/nonexistent.tar").unwrap_err();
    /// assert!(error.to_string().starts_with("/nonexistent.tar: "), "{error}");
    /// ```
    pub fn open(source: &str) -> Result<Image, ImageError> {
        for (prefix, format) in TRANSPORTS.into_iter().zip([
            ImageFormat::Layout,
            ImageFormat::OciArchive,
            ImageFormat::DockerArchive,
        ]) {
            if let Some(rest) = source.strip_prefix(prefix) {
                let (path, reference) = split_reference(rest);
                let store = match format {
                    ImageFormat::Layout => Store::Layout(PathBuf::from(path)),
                    _ => Store::archive(Path::new(path))?,
                };
                if format == ImageFormat::Layout && !store.has("index.json") {
                    // Read as the error that says why: missing, or not a directory.
                    store.read_file("index.json", "the layout's index")?;
                }
                return Ok(Image { store, format, reference: reference.map(str::to_string) });
            }
        }
        Image::recognise(Path::new(source))?.ok_or_else(|| {
            ImageError::Reference(format!(
                "{source}: is not an OCI image layout, an OCI archive or a `docker save` tarball"
            ))
        })
    }

    /// The image at `path`, recognised by what it holds: a directory with `oci-layout` and
    /// `index.json`, or a tar with those (an OCI archive) or with `manifest.json` (a `docker save`
    /// tarball). `None` for anything else, which is read no further than its first 512 bytes.
    ///
    /// ```
    /// let this = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    /// assert!(platform_gate_fleet::image::Image::recognise(&this)?.is_none());
    /// # Ok::<(), platform_gate_fleet::image::ImageError>(())
    /// ```
    pub fn recognise(path: &Path) -> Result<Option<Image>, ImageError> {
        use std::io::Read as _;

        let Ok(metadata) = std::fs::metadata(path) else { return Ok(None) };
        if metadata.is_dir() {
            let store = Store::Layout(path.to_path_buf());
            let is_layout = store.has("oci-layout") && store.has("index.json");
            return Ok(is_layout.then_some(Image { store, format: ImageFormat::Layout, reference: None }));
        }
        if !metadata.is_file() {
            return Ok(None);
        }
        let mut head = Vec::new();
        let file = std::fs::File::open(path)
            .map_err(|error| ImageError::Io { path: path.display().to_string(), error })?;
        file.take(512)
            .read_to_end(&mut head)
            .map_err(|error| ImageError::Io { path: path.display().to_string(), error })?;
        if head.get(257..262) != Some(b"ustar") {
            return Ok(None);
        }
        let store = Store::archive(path)?;
        let format = if store.has("oci-layout") && store.has("index.json") {
            ImageFormat::OciArchive
        } else if store.has("manifest.json") {
            ImageFormat::DockerArchive
        } else {
            return Ok(None);
        };
        Ok(Some(Image { store, format, reference: None }))
    }

    /// Whether `argument` names an image by one of skopeo's [`TRANSPORTS`].
    ///
    /// ```
    /// use platform_gate_fleet::image::Image;
    /// assert!(Image::is_transport("oci:build/layout:1.4".as_ref()));
    /// assert!(!Image::is_transport("./oci:build".as_ref()));
    /// ```
    pub fn is_transport(argument: &OsStr) -> bool {
        let bytes = argument.as_encoded_bytes();
        TRANSPORTS.iter().any(|prefix| bytes.starts_with(prefix.as_bytes()))
    }

    /// How it is stored.
    pub fn format(&self) -> ImageFormat {
        self.format
    }

    /// The layout's directory, or the archive.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// Each platform's image (one for a single-platform image), in the index's order.
    pub fn read(&self, options: &ReadOptions) -> Result<Vec<PlatformImage>, ImageError> {
        let reference = self.reference.as_deref();
        let manifests = match self.format {
            ImageFormat::DockerArchive => walk::docker(&self.store, reference)?,
            _ => walk::oci(&self.store, reference)?,
        };
        if manifests.is_empty() {
            return Err(ImageError::Reference(format!("{}: holds no image manifest", self.path().display())));
        }
        manifests.into_iter().map(|manifest| self.read_platform(manifest, options)).collect()
    }

    fn read_platform(
        &self,
        manifest: PlatformManifest,
        options: &ReadOptions,
    ) -> Result<PlatformImage, ImageError> {
        let layers = &manifest.layers;
        let results: Vec<Mutex<Option<Result<ReadLayer, ImageError>>>> =
            layers.iter().map(|_| Mutex::new(None)).collect();
        let (next, failed) = (AtomicUsize::new(0), AtomicBool::new(false));
        // Layers are independent until they are applied: each worker reads (and decompresses) the
        // next one left, and they are applied in order once all are read. The calling thread is one
        // of the workers, so that one worker (one core, one layer) starts no thread.
        let work = || {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= layers.len() || failed.load(Ordering::Relaxed) {
                    return;
                }
                let result = read_layer(&self.store, &layers[index], options.max_layer_size);
                failed.fetch_or(result.is_err(), Ordering::Relaxed);
                *results[index].lock().unwrap_or_else(|poison| poison.into_inner()) = Some(result);
            }
        };
        let workers = options.threads.clamp(1, layers.len().max(1));
        std::thread::scope(|scope| {
            for _ in 1..workers {
                scope.spawn(work);
            }
            work();
        });
        let mut tree = Tree::default();
        let mut decompressed = 0;
        for (layer, result) in layers.iter().zip(results) {
            // A layer not read is after one that failed, whose error comes first.
            let Some(read) = result.into_inner().unwrap_or_else(|poison| poison.into_inner()) else {
                continue;
            };
            let read = read?;
            decompressed += read.decompressed;
            tree.apply(&layer.name, read.changes)?;
        }
        let entrypoint = match manifest.command.first() {
            Some(argv0) => tree.entrypoint(&Start {
                argv0,
                working_dir: &manifest.working_dir,
                path_variable: manifest.path_variable.as_deref(),
            })?,
            None => None,
        };
        // The entrypoint's file, by which its binary is known under any of its hard-linked names.
        let entry_file = match entrypoint.as_deref().map(|path| tree.resolve(path)).transpose()?.flatten() {
            Some((_, Node::File { found, .. })) => Some(found),
            _ => None,
        };
        let mut binaries: Vec<ImageBinary> = Vec::new();
        for (path, found) in tree.gated() {
            if binaries.iter().any(|binary| Arc::ptr_eq(&binary.found, found)) {
                continue;
            }
            let entrypoint = entry_file.is_some_and(|entry| Arc::ptr_eq(entry, found));
            binaries.push(ImageBinary { path: format!("/{path}"), entrypoint, found: Arc::clone(found) });
        }
        // The entrypoint first.
        binaries.sort_by_key(|binary| !binary.entrypoint);
        Ok(PlatformImage {
            os: manifest.os,
            architecture: manifest.architecture,
            variant: manifest.variant,
            digest: manifest.digest,
            reference: manifest.reference,
            command: manifest.command,
            entrypoint: entrypoint.map(|path| format!("/{path}")),
            binaries,
            decompressed,
            subject: manifest.subject,
        })
    }
}

/// `PATH[:REF]`: the path, and the reference after the first `:` whose left side exists; the whole
/// as a path where none does.
fn split_reference(rest: &str) -> (&str, Option<&str>) {
    if Path::new(rest).exists() {
        return (rest, None);
    }
    for (at, _) in rest.match_indices(':') {
        if Path::new(&rest[..at]).exists() {
            return (&rest[..at], Some(&rest[at + 1..]).filter(|reference| !reference.is_empty()));
        }
    }
    (rest, None)
}
