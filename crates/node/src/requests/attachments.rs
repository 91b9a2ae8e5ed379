//! The bytes of request attachments, kept by this node content-addressed and encrypted at
//! rest: one file per attachment under `<dir>/<first two hex digits>/<sha256>`, and, while
//! an upload or a delivery is under way, `<dir>/partial/<sha256>`.
//!
//! A file is a header (`COMITYA1` and the attachment's size, 8 bytes big-endian) and
//! segments of at most [`SEGMENT`] bytes of plaintext, each sealed on its own with
//! XChaCha20-Poly1305 under a key derived from the node secret `attachments` (the same for
//! every process sharing the store), a random nonce, and as associated data the
//! attachment's SHA-256 and the segment's offset: a segment cannot be moved to another
//! place or another attachment unnoticed. Each segment is written as its plaintext length
//! (4 bytes big-endian), the nonce (24 bytes) and the ciphertext with its tag.
//!
//! An attachment grows by appends at the offset it has reached, so an interrupted upload
//! resumes where it stopped (a torn last segment is cut off when the file is read again).
//! When the last byte is in, the whole is decrypted and hashed: the file is sealed (moved
//! to its place) only when the SHA-256 is the one it is named by, and removed otherwise.
//! Every read checks every segment's tag and, at the end, the SHA-256 again: a corrupted,
//! truncated or swapped file is an integrity error, never served as good.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use comity_store::{Store, StoreError};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The largest plaintext segment sealed at once; also the largest chunk delivered to a peer.
pub const SEGMENT: usize = 1024 * 1024;
/// The largest attachment by default: 2 GiB.
pub const DEFAULT_MAX_SIZE: u64 = 2 * 1024 * 1024 * 1024;
/// The largest chunk one upload call may append.
pub const MAX_CHUNK: usize = 8 * 1024 * 1024;

const MAGIC: &[u8; 8] = b"COMITYA1";
const HEADER: u64 = 16;
const NONCE: usize = 24;
const TAG: usize = 16;

/// Why an attachment could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    /// The input is not acceptable; the text says why.
    #[error("{0}")]
    Invalid(String),
    /// Larger than this node accepts.
    #[error("{0}")]
    TooLarge(String),
    /// A chunk does not start where the bytes held end.
    #[error("attachment {sha256}: this node holds {held} bytes; the next chunk starts at offset {held}, not {offset}")]
    Offset {
        /// The attachment.
        sha256: String,
        /// The bytes held.
        held: u64,
        /// The offset given.
        offset: u64,
    },
    /// The bytes received do not have the SHA-256 they were announced with; nothing kept.
    #[error(
        "attachment {sha256}: the {size} bytes received have SHA-256 {actual}; nothing was kept"
    )]
    HashMismatch {
        /// The announced SHA-256.
        sha256: String,
        /// The SHA-256 of what arrived.
        actual: String,
        /// How many bytes arrived.
        size: u64,
    },
    /// This node does not hold the attachment (sealed).
    #[error("this node does not hold the bytes of attachment {0}")]
    Absent(String),
    /// A stored file does not verify.
    #[error("attachment {sha256} fails its integrity check at rest: {why}")]
    Integrity {
        /// The attachment.
        sha256: String,
        /// What failed.
        why: String,
    },
    /// The file system failed.
    #[error("attachment storage: {0}")]
    Io(#[from] std::io::Error),
    /// The store failed (reading the node secret).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an append reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// The attachment's size.
    pub size: u64,
    /// The bytes held so far.
    pub held: u64,
    /// Whether it is complete, verified and sealed.
    pub complete: bool,
}

/// This node's attachment files.
pub struct Attachments {
    dir: PathBuf,
    max_size: u64,
    cipher: tokio::sync::OnceCell<XChaCha20Poly1305>,
    /// Held while an append writes.
    writing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Attachments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachments")
            .field("dir", &self.dir)
            .field("max_size", &self.max_size)
            .finish_non_exhaustive()
    }
}

/// Whether `s` is a SHA-256 in lowercase hex.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Attachments {
    /// The attachments kept under `dir` (created when first written), at most
    /// [`DEFAULT_MAX_SIZE`] bytes each.
    pub fn new(dir: impl Into<PathBuf>) -> Attachments {
        Attachments {
            dir: dir.into(),
            max_size: DEFAULT_MAX_SIZE,
            cipher: tokio::sync::OnceCell::new(),
            writing: tokio::sync::Mutex::new(()),
        }
    }

    /// The same, with attachments of at most `max_size` bytes.
    pub fn with_max_size(mut self, max_size: u64) -> Attachments {
        self.max_size = max_size;
        self
    }

    /// The largest attachment accepted.
    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    async fn cipher(&self, store: &dyn Store) -> Result<&XChaCha20Poly1305, AttachmentError> {
        self.cipher
            .get_or_try_init(|| async {
                let mut fresh = [0u8; 32];
                rand::Rng::fill(&mut rand::thread_rng(), &mut fresh);
                let secret = store.node_secret("attachments", fresh).await?;
                let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&secret)
                    .expect("HMAC takes any key length");
                m.update(b"comity attachments at rest v1");
                Ok::<_, AttachmentError>(XChaCha20Poly1305::new(&m.finalize().into_bytes()))
            })
            .await
    }

    fn sealed_path(&self, sha256: &str) -> PathBuf {
        sealed_path(&self.dir, sha256)
    }

    fn partial_path(&self, sha256: &str) -> PathBuf {
        partial_path(&self.dir, sha256)
    }

    /// The size of attachment `sha256` when this node holds it whole (sealed; its content is
    /// checked on reading).
    pub fn sealed_size(&self, sha256: &str) -> Result<Option<u64>, AttachmentError> {
        sealed_size(&self.dir, sha256)
    }
    /// The SHA-256 of every attachment held whole, in order (uploads under way are not).
    pub fn sealed(&self) -> Result<Vec<String>, AttachmentError> {
        let mut all = Vec::new();
        let folders = match fs::read_dir(&self.dir) {
            Ok(folders) => folders,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(all),
            Err(e) => return Err(e.into()),
        };
        for folder in folders {
            let folder = folder?;
            let prefix = folder.file_name();
            let Some(prefix) = prefix.to_str() else {
                continue;
            };
            if prefix.len() != 2 || !folder.file_type()?.is_dir() {
                continue;
            }
            for file in fs::read_dir(folder.path())? {
                let name = file?.file_name();
                match name.to_str() {
                    Some(sha256) if is_sha256(sha256) && sha256.starts_with(prefix) => {
                        all.push(sha256.to_owned())
                    }
                    _ => {}
                }
            }
        }
        all.sort();
        Ok(all)
    }

    /// Where attachment `sha256` is kept once held whole (encrypted as described above).
    pub fn sealed_file(&self, sha256: &str) -> Result<PathBuf, AttachmentError> {
        check_hash(sha256)?;
        Ok(self.sealed_path(sha256))
    }

    /// Reads attachment `sha256` through, checking every segment and the SHA-256 of the
    /// whole; returns its size.
    pub async fn verify(&self, store: &dyn Store, sha256: &str) -> Result<u64, AttachmentError> {
        let mut reader = self.open(store, sha256).await?;
        while reader.next_segment()?.is_some() {}
        Ok(reader.size())
    }

    /// How far attachment `sha256` has come: its size and the bytes held, if any are.
    pub fn progress(&self, sha256: &str) -> Result<Option<Progress>, AttachmentError> {
        if let Some(size) = self.sealed_size(sha256)? {
            return Ok(Some(Progress {
                size,
                held: size,
                complete: true,
            }));
        }
        match OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.partial_path(sha256))
        {
            Ok(mut f) => {
                let size = read_header(&mut f, sha256)?;
                let held = scan(&mut f, sha256)?;
                Ok(Some(Progress {
                    size,
                    held,
                    complete: false,
                }))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Appends `data` at `offset` to attachment `sha256` of `size` bytes. A chunk that does
    /// not start where the bytes held end is refused with the bytes held; when the last
    /// byte is in, the whole is verified and sealed, or removed. An attachment held whole
    /// already answers complete (a repeated chunk changes nothing). Appends are made one at
    /// a time in this process, off the async workers.
    pub async fn append(
        &self,
        store: &dyn Store,
        sha256: &str,
        size: u64,
        offset: u64,
        data: &[u8],
    ) -> Result<Progress, AttachmentError> {
        check_hash(sha256)?;
        if size > self.max_size {
            return Err(AttachmentError::TooLarge(format!(
                "attachment {sha256} has {size} bytes; this node accepts at most {}",
                self.max_size
            )));
        }
        if data.len() > MAX_CHUNK {
            return Err(AttachmentError::TooLarge(format!(
                "a chunk has {} bytes; at most {MAX_CHUNK} are appended at once",
                data.len()
            )));
        }
        let cipher = self.cipher(store).await?.clone();
        let _one_at_a_time = self.writing.lock().await;
        let (dir, sha256, data) = (self.dir.clone(), sha256.to_owned(), data.to_vec());
        tokio::task::spawn_blocking(move || {
            append_blocking(&dir, &cipher, &sha256, size, offset, &data)
        })
        .await
        .map_err(|e| AttachmentError::Io(std::io::Error::other(e.to_string())))?
    }

    /// Stores `data` whole as an attachment (going on from the bytes held already, if an
    /// earlier attempt stopped); returns its SHA-256.
    pub async fn put(&self, store: &dyn Store, data: &[u8]) -> Result<String, AttachmentError> {
        let sha256 = hex::encode(Sha256::digest(data));
        let size = data.len() as u64;
        let mut offset = match self.progress(&sha256)? {
            Some(p) if p.size == size => p.held,
            _ => 0,
        };
        loop {
            let end = (offset as usize + MAX_CHUNK).min(data.len());
            let p = self
                .append(store, &sha256, size, offset, &data[offset as usize..end])
                .await?;
            if p.complete {
                return Ok(sha256);
            }
            offset = p.held;
        }
    }

    /// A reader of attachment `sha256`, held whole by this node, after a first pass that
    /// checked every segment and the SHA-256 of the whole. The reader checks them again as
    /// it reads.
    pub async fn open(&self, store: &dyn Store, sha256: &str) -> Result<Reader, AttachmentError> {
        check_hash(sha256)?;
        let cipher = self.cipher(store).await?.clone();
        let (path, sha256) = (self.sealed_path(sha256), sha256.to_owned());
        tokio::task::spawn_blocking(move || {
            let open = || match File::open(&path) {
                Ok(f) => Ok(f),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(AttachmentError::Absent(sha256.clone()))
                }
                Err(e) => Err(e.into()),
            };
            let mut first = Reader::open(open()?, &sha256, cipher.clone())?;
            while first.next_segment()?.is_some() {}
            Reader::open(open()?, &sha256, cipher)
        })
        .await
        .map_err(|e| AttachmentError::Io(std::io::Error::other(e.to_string())))?
    }
}

/// The body of [`Attachments::append`], on a blocking thread.
fn append_blocking(
    dir: &Path,
    cipher: &XChaCha20Poly1305,
    sha256: &str,
    size: u64,
    offset: u64,
    data: &[u8],
) -> Result<Progress, AttachmentError> {
    if let Some(held) = sealed_size(dir, sha256)? {
        if held != size {
            return Err(AttachmentError::Invalid(format!(
                "attachment {sha256} is held with {held} bytes, not {size}"
            )));
        }
        return Ok(Progress {
            size,
            held,
            complete: true,
        });
    }
    let path = partial_path(dir, sha256);
    fs::create_dir_all(path.parent().expect("a parent"))?;
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)?;
    let held = if f.metadata()?.len() < HEADER {
        f.set_len(0)?;
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&size.to_be_bytes());
        f.write_all(&header)?;
        0
    } else {
        let read = read_header(&mut f, sha256).and_then(|announced| {
            if announced != size {
                return Err(AttachmentError::Invalid(format!(
                    "attachment {sha256} was announced with {announced} bytes, not {size}"
                )));
            }
            scan(&mut f, sha256)
        });
        match read {
            Ok(held) => held,
            Err(e @ AttachmentError::Integrity { .. }) => {
                // A spoiled partial file is of no use: the next attempt starts afresh.
                drop(f);
                fs::remove_file(&path)?;
                return Err(e);
            }
            Err(e) => return Err(e),
        }
    };
    if offset != held {
        return Err(AttachmentError::Offset {
            sha256: sha256.to_owned(),
            held,
            offset,
        });
    }
    let end = offset
        .checked_add(data.len() as u64)
        .filter(|e| *e <= size)
        .ok_or_else(|| {
            AttachmentError::Invalid(format!(
                "a chunk of {} bytes at offset {offset} runs past the attachment's {size} bytes",
                data.len()
            ))
        })?;
    f.seek(SeekFrom::End(0))?;
    let mut at = offset;
    for piece in data.chunks(SEGMENT) {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = aad(sha256, at);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: piece,
                    aad: &aad,
                },
            )
            .map_err(|_| AttachmentError::Invalid("encryption failed".into()))?;
        let mut segment = Vec::with_capacity(4 + NONCE + sealed.len());
        segment.extend_from_slice(&(piece.len() as u32).to_be_bytes());
        segment.extend_from_slice(&nonce);
        segment.extend_from_slice(&sealed);
        f.write_all(&segment)?;
        at += piece.len() as u64;
    }
    f.sync_data()?;
    drop(f);
    if end < size {
        return Ok(Progress {
            size,
            held: end,
            complete: false,
        });
    }
    // Complete: verify the whole before it takes its place.
    let mut reader = Reader::open(File::open(&path)?, sha256, cipher.clone())?;
    reader.check_whole = false;
    let mut hasher = Sha256::new();
    let whole = loop {
        match reader.next_segment() {
            Ok(Some(piece)) => hasher.update(&piece),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    if let Err(e) = whole {
        fs::remove_file(&path)?;
        return Err(e);
    }
    let actual = hex::encode(hasher.finalize());
    if actual != sha256 {
        fs::remove_file(&path)?;
        return Err(AttachmentError::HashMismatch {
            sha256: sha256.to_owned(),
            actual,
            size,
        });
    }
    let sealed = sealed_path(dir, sha256);
    fs::create_dir_all(sealed.parent().expect("a parent"))?;
    fs::rename(&path, &sealed)?;
    tracing::info!(sha256 = %sha256, size, "attachment sealed");
    Ok(Progress {
        size,
        held: size,
        complete: true,
    })
}

fn sealed_path(dir: &Path, sha256: &str) -> PathBuf {
    dir.join(&sha256[..2]).join(sha256)
}

fn partial_path(dir: &Path, sha256: &str) -> PathBuf {
    dir.join("partial").join(sha256)
}

fn sealed_size(dir: &Path, sha256: &str) -> Result<Option<u64>, AttachmentError> {
    check_hash(sha256)?;
    match File::open(sealed_path(dir, sha256)) {
        Ok(mut f) => Ok(Some(read_header(&mut f, sha256)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn check_hash(sha256: &str) -> Result<(), AttachmentError> {
    if is_sha256(sha256) {
        Ok(())
    } else {
        Err(AttachmentError::Invalid(format!(
            "{:?} is not a SHA-256 (64 lowercase hex digits)",
            sha256.escape_debug().to_string()
        )))
    }
}

fn aad(sha256: &str, offset: u64) -> Vec<u8> {
    let mut aad = b"comity attachment v1 ".to_vec();
    aad.extend_from_slice(sha256.as_bytes());
    aad.extend_from_slice(&offset.to_be_bytes());
    aad
}

fn integrity(sha256: &str, why: impl Into<String>) -> AttachmentError {
    AttachmentError::Integrity {
        sha256: sha256.to_owned(),
        why: why.into(),
    }
}

/// Reads the header of `f` (from its start) and returns the size it announces.
fn read_header(f: &mut File, sha256: &str) -> Result<u64, AttachmentError> {
    let mut header = [0u8; HEADER as usize];
    f.seek(SeekFrom::Start(0))?;
    f.read_exact(&mut header)
        .map_err(|_| integrity(sha256, "the file is shorter than its header"))?;
    if &header[..8] != MAGIC {
        return Err(integrity(sha256, "the file does not start with COMITYA1"));
    }
    Ok(u64::from_be_bytes(header[8..].try_into().expect("8 bytes")))
}

/// The plaintext bytes held in the partial file `f` (after its header), cutting off a torn
/// last segment.
fn scan(f: &mut File, sha256: &str) -> Result<u64, AttachmentError> {
    let len = f.metadata()?.len();
    let mut pos = HEADER;
    let mut held = 0u64;
    loop {
        if pos + 4 > len {
            break;
        }
        let mut n = [0u8; 4];
        f.seek(SeekFrom::Start(pos))?;
        f.read_exact(&mut n)?;
        let n = u32::from_be_bytes(n) as u64;
        if n as usize > SEGMENT {
            return Err(integrity(
                sha256,
                "a segment is larger than the format allows",
            ));
        }
        let next = pos + 4 + NONCE as u64 + n + TAG as u64;
        if next > len {
            break;
        }
        held += n;
        pos = next;
    }
    if pos < len {
        f.set_len(pos)?;
    }
    Ok(held)
}

/// Reads an attachment's plaintext segment by segment, checking each and, at the end, the
/// SHA-256 of the whole.
pub struct Reader {
    file: std::io::BufReader<File>,
    sha256: String,
    cipher: XChaCha20Poly1305,
    size: u64,
    offset: u64,
    hasher: Option<Sha256>,
    /// Whether the end checks the SHA-256 of the whole (the sealing pass checks it itself).
    check_whole: bool,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("sha256", &self.sha256)
            .field("size", &self.size)
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

impl Reader {
    fn open(
        mut file: File,
        sha256: &str,
        cipher: XChaCha20Poly1305,
    ) -> Result<Reader, AttachmentError> {
        let size = read_header(&mut file, sha256)?;
        Ok(Reader {
            file: std::io::BufReader::new(file),
            sha256: sha256.to_owned(),
            cipher,
            size,
            offset: 0,
            hasher: Some(Sha256::new()),
            check_whole: true,
        })
    }

    /// The attachment's size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The offset of the next segment.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next segment of plaintext (at most [`SEGMENT`] bytes), or None at the end once
    /// the SHA-256 of the whole was checked.
    pub fn next_segment(&mut self) -> Result<Option<Vec<u8>>, AttachmentError> {
        let Some(hasher) = self.hasher.as_mut() else {
            return Ok(None);
        };
        if self.offset == self.size {
            let actual = hex::encode(self.hasher.take().expect("present").finalize());
            if self.check_whole && actual != self.sha256 {
                return Err(integrity(
                    &self.sha256,
                    format!("its bytes have SHA-256 {actual}"),
                ));
            }
            let mut rest = [0u8; 1];
            if self.file.read(&mut rest)? != 0 {
                return Err(integrity(&self.sha256, "bytes follow its last segment"));
            }
            return Ok(None);
        }
        let sha256 = self.sha256.clone();
        let mut n = [0u8; 4];
        self.file.read_exact(&mut n).map_err(|_| {
            integrity(
                &sha256,
                format!("the file ends at offset {} of {}", self.offset, self.size),
            )
        })?;
        let n = u32::from_be_bytes(n) as usize;
        if n > SEGMENT || self.offset + n as u64 > self.size {
            return Err(integrity(&sha256, "a segment's length is out of bounds"));
        }
        let mut nonce = [0u8; NONCE];
        let mut sealed = vec![0u8; n + TAG];
        self.file
            .read_exact(&mut nonce)
            .and_then(|_| self.file.read_exact(&mut sealed))
            .map_err(|_| integrity(&sha256, "the file ends inside a segment"))?;
        let aad = aad(&sha256, self.offset);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                integrity(
                    &sha256,
                    format!("the segment at offset {} does not decrypt", self.offset),
                )
            })?;
        hasher.update(&plain);
        self.offset += plain.len() as u64;
        Ok(Some(plain))
    }

    /// The whole plaintext, checked (for attachments small enough to hold in memory).
    pub fn read_all(mut self) -> Result<Vec<u8>, AttachmentError> {
        let mut all = Vec::with_capacity(self.size.min(64 << 20) as usize);
        while let Some(piece) = self.next_segment()? {
            all.extend_from_slice(&piece);
        }
        Ok(all)
    }
}
