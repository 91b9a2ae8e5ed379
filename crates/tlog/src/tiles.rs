//! C2SP `tlog-tiles`: tile and entry-bundle paths, which tiles a tree of a
//! given size has, tile bytes from stored hashes, and parsing of tiles and
//! entry bundles. This module is what an HTTP layer needs to serve a static,
//! mirrorable log; it does no I/O itself.

use std::fmt;

use crate::checkpoint::parse_decimal;
use crate::hash::{Hash, HASH_SIZE};
use crate::tree::{
    root_from_leaves, split_stored_hash_index, stored_hash_index, HashReader, TreeError,
    MAX_TREE_SIZE,
};

/// Hashes in a full tile (tiles have height 8).
pub const TILE_WIDTH: u64 = 256;

/// The highest tile level a tree of at most [`MAX_TREE_SIZE`] leaves has.
pub const MAX_TILE_LEVEL: u8 = 7;

/// Errors of tiles and entry bundles.
#[derive(Debug, thiserror::Error)]
pub enum TileError {
    /// A path that is not a tlog-tiles tile or entry-bundle path.
    #[error("malformed tile path {path:?}: {reason}")]
    MalformedPath {
        /// The path.
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A tile does not exist in the tree of the given size.
    #[error("tile {tile} does not exist in a tree of size {size}")]
    NotInTree {
        /// The tile path.
        tile: String,
        /// The tree size.
        size: u64,
    },
    /// Tile or bundle data shorter or longer than its width says.
    #[error("{what} holds {got} bytes; want {want}")]
    WrongLength {
        /// What was parsed.
        what: &'static str,
        /// Bytes present.
        got: usize,
        /// Bytes expected.
        want: usize,
    },
    /// An entry bundle that ends inside an entry.
    #[error("entry bundle truncated in entry {entry}")]
    TruncatedBundle {
        /// Zero-based entry number in the bundle.
        entry: usize,
    },
    /// An entry too long for the uint16 length prefix.
    #[error("entry of {0} bytes exceeds the 65535-byte limit of entry bundles")]
    EntryTooLong(usize),
    /// An operation for hash tiles asked of an entry bundle.
    #[error("{0} is an entry bundle, not a hash tile")]
    NotAHashTile(String),
    /// Reading stored hashes failed.
    #[error(transparent)]
    Tree(#[from] TreeError),
}

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// Merkle tree hashes at tile level `0..=63` (`tile/<L>/…`).
    Hashes(u8),
    /// Log entries (`tile/entries/…`).
    Entries,
}

/// A tile or entry bundle: kind, index within its level, width (1..=256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tile {
    /// What the tile holds.
    pub kind: TileKind,
    /// The index of the tile within its level.
    pub index: u64,
    /// The number of hashes or entries: 256 for a full tile.
    pub width: u16,
}

impl Tile {
    /// Parses a path such as `tile/0/x001/234.p/5` or `tile/entries/005`.
    pub fn parse_path(path: &str) -> Result<Tile, TileError> {
        let bad = |reason| TileError::MalformedPath {
            path: path.to_owned(),
            reason,
        };
        let rest = path
            .strip_prefix("tile/")
            .ok_or(bad("must start with tile/"))?;
        let (level, rest) = rest.split_once('/').ok_or(bad("missing level"))?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            let l = parse_decimal(level)
                .filter(|&l| l <= 63)
                .ok_or(bad("level must be a decimal 0..=63"))?;
            TileKind::Hashes(l as u8)
        };
        let (digits, width) = match rest.split_once(".p/") {
            Some((digits, w)) => {
                let w = parse_decimal(w)
                    .filter(|w| (1..TILE_WIDTH).contains(w))
                    .ok_or(bad("partial width must be a decimal 1..=255"))?;
                (digits, w as u16)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let groups: Vec<&str> = digits.split('/').collect();
        let mut index: u64 = 0;
        for (i, g) in groups.iter().enumerate() {
            let last = i + 1 == groups.len();
            let g = if last { Some(*g) } else { g.strip_prefix('x') }
                .ok_or(bad("all but the last index element start with x"))?;
            if g.len() != 3 || !g.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("index elements are three digits"));
            }
            if i == 0 && !last && g == "000" {
                return Err(bad("index has a leading zero element"));
            }
            index = index
                .checked_mul(1000)
                .and_then(|x| x.checked_add(g.parse::<u64>().ok()?))
                .ok_or(bad("index too large"))?;
        }
        Ok(Tile { kind, index, width })
    }

    /// The URL path below the log prefix.
    pub fn path(&self) -> String {
        self.to_string()
    }

    /// Whether the tile can be served for a tree of `size` leaves: its
    /// hashes or entries all lie within the tree (partial tiles of earlier
    /// sizes included, since every stored hash is kept).
    pub fn exists_in(&self, size: u64) -> bool {
        let level = match self.kind {
            TileKind::Hashes(l) => l,
            TileKind::Entries => 0,
        };
        if level > MAX_TILE_LEVEL || self.width == 0 || u64::from(self.width) > TILE_WIDTH {
            return false;
        }
        let available = size >> (8 * u32::from(level));
        self.index
            .checked_mul(TILE_WIDTH)
            .and_then(|start| start.checked_add(u64::from(self.width)))
            .is_some_and(|end| end <= available)
    }

    /// Every tile (full ones, then the partial right edge) of a tree of `size`
    /// leaves, level by level: the set a static mirror holds.
    pub fn all_for_size(size: u64) -> impl Iterator<Item = Tile> {
        (0..=MAX_TILE_LEVEL).flat_map(move |level| {
            let count = size >> (8 * u32::from(level));
            let full = count / TILE_WIDTH;
            let partial = (count % TILE_WIDTH) as u16;
            (0..full)
                .map(move |index| Tile {
                    kind: TileKind::Hashes(level),
                    index,
                    width: TILE_WIDTH as u16,
                })
                .chain((partial > 0).then_some(Tile {
                    kind: TileKind::Hashes(level),
                    index: full,
                    width: partial,
                }))
        })
    }

    /// The entry bundle holding entry `index` in a tree of `size` leaves
    /// (partial if the tree ends inside it), or `None` past the end.
    pub fn bundle_for_entry(index: u64, size: u64) -> Option<Tile> {
        if index >= size || size > MAX_TREE_SIZE {
            return None;
        }
        let n = index / TILE_WIDTH;
        let width = (size - n * TILE_WIDTH).min(TILE_WIDTH) as u16;
        Some(Tile {
            kind: TileKind::Entries,
            index: n,
            width,
        })
    }

    /// The bytes of a hash tile, read from stored hashes in one call. The
    /// tile must exist in the tree of `size` leaves.
    pub fn read(
        &self,
        size: u64,
        reader: &(impl HashReader + ?Sized),
    ) -> Result<Vec<u8>, TileError> {
        let TileKind::Hashes(level) = self.kind else {
            return Err(TileError::NotAHashTile(self.path()));
        };
        if size > MAX_TREE_SIZE || !self.exists_in(size) {
            return Err(TileError::NotInTree {
                tile: self.path(),
                size,
            });
        }
        let first = self.index * TILE_WIDTH;
        let indexes: Vec<u64> = (first..first + u64::from(self.width))
            .map(|n| stored_hash_index(8 * level, n))
            .collect();
        let hashes = reader.read_hashes(&indexes)?;
        if hashes.len() != indexes.len() {
            return Err(TreeError::ShortRead {
                got: hashes.len(),
                want: indexes.len(),
            }
            .into());
        }
        Ok(hashes.iter().flat_map(|h| h.0).collect())
    }

    /// Splits tile bytes into hashes, refusing truncated or overlong data.
    pub fn parse_hashes(&self, data: &[u8]) -> Result<Vec<Hash>, TileError> {
        if let TileKind::Entries = self.kind {
            return Err(TileError::NotAHashTile(self.path()));
        }
        let want = usize::from(self.width) * HASH_SIZE;
        if data.len() != want {
            return Err(TileError::WrongLength {
                what: "hash tile",
                got: data.len(),
                want,
            });
        }
        Ok(data
            .chunks_exact(HASH_SIZE)
            .map(|c| Hash(c.try_into().expect("chunks are 32 bytes")))
            .collect())
    }
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TileKind::Hashes(l) => write!(f, "tile/{l}/")?,
            TileKind::Entries => f.write_str("tile/entries/")?,
        }
        let digits = self.index.to_string();
        let padded = format!("{}{digits}", "0".repeat((3 - digits.len() % 3) % 3));
        let groups: Vec<&str> = padded
            .as_bytes()
            .chunks(3)
            .map(|c| std::str::from_utf8(c).expect("ASCII digits"))
            .collect();
        for (i, g) in groups.iter().enumerate() {
            if i + 1 < groups.len() {
                write!(f, "x{g}/")?;
            } else {
                f.write_str(g)?;
            }
        }
        if u64::from(self.width) < TILE_WIDTH {
            write!(f, ".p/{}", self.width)?;
        }
        Ok(())
    }
}

/// Where a [`TileHashReader`] gets tile bytes (for example by HTTP GETs
/// from a log or a mirror); fetching is the implementation's business.
pub trait TileSource {
    /// The bytes of each tile, in the order asked.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TreeError>;
}

/// A [`HashReader`] over the hash tiles of a tree of `size` leaves, for
/// clients of a tiled log: with it, [`crate::tree::tree_hash`] and the proof
/// functions of [`crate::proof`] work from tiles instead of a database.
///
/// Tiles are not trusted: verify whatever is computed from them against a
/// signed checkpoint of the same size (its root authenticates every hash
/// used). Each stored hash is read from the one tile that holds it, or is
/// hashed from up to 128 consecutive hashes of a tile.
#[derive(Debug, Clone)]
pub struct TileHashReader<S> {
    size: u64,
    source: S,
}

impl<S: TileSource> TileHashReader<S> {
    /// A reader for the tree of `size` leaves, taking tiles from `source`.
    pub fn new(size: u64, source: S) -> Result<TileHashReader<S>, TreeError> {
        if size > MAX_TREE_SIZE {
            return Err(TreeError::SizeTooLarge { size });
        }
        Ok(TileHashReader { size, source })
    }

    /// The tile, offset and count of tile hashes making stored hash `index`.
    fn locate(&self, index: u64) -> Result<(Tile, usize, usize), TreeError> {
        let missing = || TreeError::MissingHash { index };
        let (level, n) = split_stored_hash_index(index).ok_or_else(missing)?;
        let (tile_level, sub) = (level / 8, u32::from(level % 8));
        let first = n << sub;
        let count = 1u64 << sub;
        let available = self.size >> (8 * u32::from(tile_level));
        if first + count > available {
            return Err(missing());
        }
        let tile_index = first / TILE_WIDTH;
        let width = (available - tile_index * TILE_WIDTH).min(TILE_WIDTH) as u16;
        let tile = Tile {
            kind: TileKind::Hashes(tile_level),
            index: tile_index,
            width,
        };
        Ok((tile, (first % TILE_WIDTH) as usize, count as usize))
    }
}

impl<S: TileSource> HashReader for TileHashReader<S> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TreeError> {
        let mut tiles: Vec<Tile> = Vec::new();
        let mut spots = Vec::with_capacity(indexes.len());
        for &index in indexes {
            let (tile, offset, count) = self.locate(index)?;
            let at = match tiles.iter().position(|t| *t == tile) {
                Some(at) => at,
                None => {
                    tiles.push(tile);
                    tiles.len() - 1
                }
            };
            spots.push((at, offset, count));
        }
        let data = self.source.read_tiles(&tiles)?;
        if data.len() != tiles.len() {
            return Err(TreeError::ShortRead {
                got: data.len(),
                want: tiles.len(),
            });
        }
        let parsed = tiles
            .iter()
            .zip(&data)
            .map(|(t, d)| t.parse_hashes(d).map_err(TreeError::storage))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(spots
            .into_iter()
            .map(|(at, offset, count)| root_from_leaves(&parsed[at][offset..offset + count]))
            .collect())
    }
}

/// Encodes entries as an entry bundle: each a big-endian uint16 length, then
/// the bytes.
pub fn encode_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    for e in entries {
        let e = e.as_ref();
        let len = u16::try_from(e.len()).map_err(|_| TileError::EntryTooLong(e.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Decodes an entry bundle of `width` entries, refusing truncated or
/// overlong data.
pub fn decode_bundle(data: &[u8], width: u16) -> Result<Vec<Vec<u8>>, TileError> {
    let mut out = Vec::with_capacity(usize::from(width));
    let mut rest = data;
    for entry in 0..usize::from(width) {
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or(TileError::TruncatedBundle { entry })?;
        let len = usize::from(u16::from_be_bytes(*len));
        let body = tail
            .get(..len)
            .ok_or(TileError::TruncatedBundle { entry })?;
        out.push(body.to_vec());
        rest = &tail[len..];
    }
    if !rest.is_empty() {
        return Err(TileError::WrongLength {
            what: "entry bundle",
            got: data.len(),
            want: data.len() - rest.len(),
        });
    }
    Ok(out)
}
