//! How a backend keeps an object's JSON: compressed with zstd, with a dictionary trained on
//! the node's own objects when it has one, or as the text itself when compressing would
//! not make it smaller. Every stored row says which it is (the dictionary's id, or none),
//! so rows written before a new dictionary stay readable after it. Reading gives back the
//! JSON text byte for byte, and never more than [`MAX_OBJECT_BYTES`]: a frame that claims
//! more, or does not say how much it holds, is refused before anything is allocated.
//!
//! When a dictionary is trained is the same for every backend ([`training_due`]): at
//! [`FIRST_TRAINING_AT`] stored versions, then each time the store has grown
//! [`RETRAIN_GROWTH`]-fold since the last training, from the newest [`TRAINING_SAMPLES`]
//! versions. A training that finds nothing to learn is stored as an empty dictionary, so
//! that it is not tried again before the next growth step.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use std::cell::RefCell;

use zstd::bulk::Compressor;
use zstd::dict::{DecoderDictionary, EncoderDictionary};
use zstd::zstd_safe::{get_frame_content_size, CParameter, DCtx};

use crate::{StoreError, StoreResult};

/// The largest object JSON a store keeps, in bytes; a stored frame that would unpack to
/// more is refused as corrupt.
pub const MAX_OBJECT_BYTES: usize = 64 << 20;
/// zstd's compression level for object JSON: its default, fast on the write path.
pub const LEVEL: i32 = 3;
/// The most a trained dictionary may weigh, in bytes.
pub const DICTIONARY_BYTES: usize = 16 * 1024;
/// Stored versions at which the first dictionary is trained.
pub const FIRST_TRAINING_AT: i64 = 1_000;
/// Growth of the store since the last training after which a new dictionary is trained.
pub const RETRAIN_GROWTH: i64 = 10;
/// How many of the newest versions a dictionary is trained on.
pub const TRAINING_SAMPLES: usize = 4_000;

/// Whether a dictionary should be trained now: `rows` is the highest row number stored,
/// `last_trained_at` the row count the newest dictionary was trained at (if any).
pub fn training_due(rows: i64, last_trained_at: Option<i64>) -> bool {
    match last_trained_at {
        None => rows >= FIRST_TRAINING_AT,
        Some(at) => rows >= at.max(FIRST_TRAINING_AT).saturating_mul(RETRAIN_GROWTH),
    }
}

/// A dictionary trained on the node's objects, ready to compress and decompress with.
pub struct Dictionary {
    id: i64,
    encoder: Option<EncoderDictionary<'static>>,
    decoder: Option<DecoderDictionary<'static>>,
}

impl Dictionary {
    /// The dictionary stored under `id` with these bytes; empty bytes stand for a training
    /// that found nothing to learn (rows are then written with plain zstd).
    pub fn new(id: i64, bytes: &[u8]) -> Self {
        let (encoder, decoder) = if bytes.is_empty() {
            (None, None)
        } else {
            (
                Some(EncoderDictionary::copy(bytes, LEVEL)),
                Some(DecoderDictionary::copy(bytes)),
            )
        };
        Dictionary {
            id,
            encoder,
            decoder,
        }
    }

    /// Its id in the store.
    pub fn id(&self) -> i64 {
        self.id
    }
}

/// Trains a dictionary on sample object JSON texts. `None` when the samples are too few or
/// too alike to teach anything (zstd refuses to train on them).
pub fn train<S: AsRef<[u8]>>(samples: &[S]) -> Option<Vec<u8>> {
    zstd::dict::from_samples(samples, DICTIONARY_BYTES).ok()
}

/// How one object's JSON is to be stored.
#[derive(Debug, PartialEq, Eq)]
pub enum Packed<'a> {
    /// The text itself: compressing it would not make it smaller.
    Text(&'a str),
    /// A zstd frame, written with the dictionary of that id or with none.
    Zstd {
        /// The dictionary's id, `None` for plain zstd.
        dictionary: Option<i64>,
        /// The frame.
        frame: Vec<u8>,
    },
}

/// Compresses object JSON for one write transaction.
pub struct Packer<'d> {
    compressor: Compressor<'d>,
    dictionary: Option<i64>,
}

impl<'d> Packer<'d> {
    /// A packer that uses `dictionary` (plain zstd when none, or when it is empty).
    pub fn new(dictionary: Option<&'d Dictionary>) -> StoreResult<Self> {
        let encoder = dictionary.and_then(|d| Some((d.encoder.as_ref()?, d.id)));
        let (compressor, id) = match encoder {
            Some((encoder, id)) => (Compressor::with_prepared_dictionary(encoder), Some(id)),
            None => (Compressor::new(LEVEL), None),
        };
        let mut compressor =
            compressor.map_err(|e| StoreError::Backend(format!("zstd compressor: {e}")))?;
        // The frame records its content size (the read bound) and a checksum (a damaged row
        // is refused, not misread); the row already says which dictionary it needs.
        for p in [
            CParameter::ContentSizeFlag(true),
            CParameter::ChecksumFlag(true),
            CParameter::DictIdFlag(false),
        ] {
            compressor
                .set_parameter(p)
                .map_err(|e| StoreError::Backend(format!("zstd parameter: {e}")))?;
        }
        Ok(Packer {
            compressor,
            dictionary: id,
        })
    }

    /// How `json` is to be stored: the smaller of its frame and its text.
    pub fn pack<'a>(&mut self, json: &'a str) -> StoreResult<Packed<'a>> {
        if json.len() > MAX_OBJECT_BYTES {
            return Err(StoreError::Backend(format!(
                "an object of {} bytes is over the {MAX_OBJECT_BYTES}-byte limit of stored objects",
                json.len()
            )));
        }
        let frame = self
            .compressor
            .compress(json.as_bytes())
            .map_err(|e| StoreError::Backend(format!("zstd compression: {e}")))?;
        Ok(if frame.len() < json.len() {
            Packed::Zstd {
                dictionary: self.dictionary,
                frame,
            }
        } else {
            Packed::Text(json)
        })
    }
}

thread_local! {
    /// One decompression context per thread, reused by every read on it.
    static DCTX: RefCell<DCtx<'static>> = RefCell::new(DCtx::create());
}

/// The JSON text of a stored frame, written with `dictionary` (or none). Refuses, naming
/// `row`, a frame that declares no size or more than [`MAX_OBJECT_BYTES`], one that is
/// damaged or needs another dictionary, and one that does not unpack to UTF-8.
pub fn unpack(row: i64, frame: &[u8], dictionary: Option<&Dictionary>) -> StoreResult<String> {
    let corrupt = |why: String| StoreError::Backend(format!("stored object row {row}: {why}"));
    let size = match get_frame_content_size(frame) {
        Ok(Some(size)) => size,
        Ok(None) => return Err(corrupt("its zstd frame does not declare its size".into())),
        Err(_) => return Err(corrupt("not a zstd frame".into())),
    };
    if size > MAX_OBJECT_BYTES as u64 {
        return Err(corrupt(format!(
            "its zstd frame declares {size} bytes, over the {MAX_OBJECT_BYTES}-byte limit of stored objects"
        )));
    }
    let mut out = Vec::with_capacity(size as usize);
    let decoder = dictionary.and_then(|d| d.decoder.as_ref());
    DCTX.with_borrow_mut(|dctx| match decoder {
        Some(decoder) => dctx.decompress_using_ddict(&mut out, frame, decoder.as_ddict()),
        None => dctx.decompress(&mut out, frame),
    })
    .map_err(|code| {
        corrupt(format!(
            "its zstd frame does not decompress: {}",
            zstd::zstd_safe::get_error_name(code)
        ))
    })?;
    if out.len() as u64 != size {
        return Err(corrupt(format!(
            "its zstd frame declares {size} bytes and holds {}",
            out.len()
        )));
    }
    String::from_utf8(out).map_err(|_| corrupt("its JSON is not UTF-8".into()))
}

/// The dictionaries a store has read, by id; each is loaded once (they never change).
#[derive(Default)]
pub struct Dictionaries {
    known: RwLock<HashMap<i64, Arc<Dictionary>>>,
}

impl Dictionaries {
    /// Dictionary `id`, loading its bytes with `load` the first time.
    pub fn get(
        &self,
        id: i64,
        load: impl FnOnce(i64) -> StoreResult<Vec<u8>>,
    ) -> StoreResult<Arc<Dictionary>> {
        if let Some(d) = self
            .known
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
        {
            return Ok(d.clone());
        }
        let d = Arc::new(Dictionary::new(id, &load(id)?));
        self.known
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, d.clone());
        Ok(d)
    }

    /// Whether dictionary `id` is loaded.
    pub fn knows(&self, id: i64) -> bool {
        self.known
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&id)
    }

    /// The dictionaries that `bodies` need and that are not loaded yet, for a backend that
    /// loads them all at once before [`Self::read_body`].
    pub fn missing<'b>(&self, bodies: impl IntoIterator<Item = &'b StoredBody>) -> Vec<i64> {
        let mut ids: Vec<i64> = bodies
            .into_iter()
            .filter(|b| b.frame.is_some())
            .filter_map(|b| b.dictionary)
            .filter(|id| !self.knows(*id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The JSON text of a row as stored: its text column, or its frame and the id of the
    /// dictionary it was written with.
    pub fn read_body(
        &self,
        body: StoredBody,
        load: impl FnOnce(i64) -> StoreResult<Vec<u8>>,
    ) -> StoreResult<String> {
        match body.frame {
            None => Ok(body.text),
            Some(frame) => {
                let dictionary = body.dictionary.map(|id| self.get(id, load)).transpose()?;
                unpack(body.row, &frame, dictionary.as_deref())
            }
        }
    }
}

/// An object row's JSON columns as read: the text (empty when packed), or a frame and the
/// dictionary it needs.
#[derive(Debug, Clone)]
pub struct StoredBody {
    /// The row, for error messages.
    pub row: i64,
    /// The text column.
    pub text: String,
    /// The zstd frame, when the row is packed.
    pub frame: Option<Vec<u8>>,
    /// The dictionary the frame was written with.
    pub dictionary: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<String> {
        (0..2000)
            .map(|i| {
                format!(
                    r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{i:08}-aaaa-4bbb-8ccc-{i:012}","created":"2024-01-01T00:00:{:02}.000Z","modified":"2024-01-01T00:00:{:02}.000Z","pattern":"[ipv4-addr:value = '10.{}.{}.{}']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","labels":["malicious-activity"]}}"#,
                    i % 60,
                    i % 60,
                    i % 256,
                    (i / 7) % 256,
                    (i * 13) % 256
                )
            })
            .collect()
    }

    fn round_trip(json: &str, dictionary: Option<&Dictionary>) {
        let mut packer = Packer::new(dictionary).unwrap();
        match packer.pack(json).unwrap() {
            Packed::Text(t) => assert_eq!(t, json),
            Packed::Zstd {
                dictionary: id,
                frame,
            } => {
                assert_eq!(id, dictionary.filter(|d| d.encoder.is_some()).map(|d| d.id));
                assert!(frame.len() < json.len());
                assert_eq!(unpack(1, &frame, dictionary).unwrap(), json);
            }
        }
    }

    #[test]
    fn hostile_texts_come_back_byte_for_byte_with_and_without_a_dictionary() {
        let dict = Dictionary::new(3, &train(&samples()).unwrap());
        let big: String = (0..200_000)
            .map(|i| char::from_u32(0x41 + (i * 7919) % 0x2000).unwrap_or('x'))
            .collect();
        for json in [
            "",
            "{}",
            r#"{"name":"ünïcödé ☃ 𝄞 \u0000 \"q\"","x":"\n\t"}"#,
            "\u{feff}{ \"a\" :  1 }  ",
            &"{\"a\":\"0123456789\"}".repeat(50_000),
            &big,
            &samples()[17],
        ] {
            round_trip(json, None);
            round_trip(json, Some(&dict));
            round_trip(json, Some(&Dictionary::new(4, b"")));
        }
    }

    #[test]
    fn a_dictionary_makes_small_objects_smaller_and_tiny_ones_stay_text() {
        let s = samples();
        let dict = Dictionary::new(1, &train(&s).unwrap());
        let json = &s[1234];
        let plain = match Packer::new(None).unwrap().pack(json).unwrap() {
            Packed::Zstd { frame, .. } => frame.len(),
            Packed::Text(t) => t.len(),
        };
        let Packed::Zstd { frame, dictionary } =
            Packer::new(Some(&dict)).unwrap().pack(json).unwrap()
        else {
            panic!("an indicator compresses with its dictionary");
        };
        assert_eq!(dictionary, Some(1));
        assert!(frame.len() * 2 < plain, "{} vs {plain}", frame.len());
        assert_eq!(
            Packer::new(Some(&dict)).unwrap().pack("{}").unwrap(),
            Packed::Text("{}")
        );
    }

    fn frame_of(json: &str, dictionary: Option<&Dictionary>) -> Vec<u8> {
        match Packer::new(dictionary).unwrap().pack(json).unwrap() {
            Packed::Zstd { frame, .. } => frame,
            Packed::Text(_) => panic!("expected a frame"),
        }
    }

    #[test]
    fn damaged_frames_and_wrong_dictionaries_are_refused_with_the_row() {
        let s = samples();
        let dict = Dictionary::new(1, &train(&s).unwrap());
        let other = Dictionary::new(
            2,
            &train(&s[..1000].iter().rev().collect::<Vec<_>>()).unwrap(),
        );
        let frame = frame_of(&s[5], Some(&dict));
        let err = |r: StoreResult<String>| r.unwrap_err().to_string();

        let mut flipped = frame.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x55;
        assert!(err(unpack(42, &flipped, Some(&dict))).contains("stored object row 42"));
        assert!(err(unpack(42, &frame[..frame.len() - 3], Some(&dict))).contains("row 42"));
        assert!(err(unpack(7, b"not zstd", None)).contains("not a zstd frame"));
        assert!(unpack(7, &frame, None).is_err(), "needs its dictionary");
        assert!(
            unpack(7, &frame, Some(&other)).is_err(),
            "needs its own dictionary"
        );
        assert_eq!(unpack(7, &frame, Some(&dict)).unwrap(), s[5]);
    }

    #[test]
    fn a_frame_that_would_unpack_past_the_limit_is_refused_before_it_is_unpacked() {
        // A zstd bomb: 65 MiB of zeros in a few kilobytes.
        let zeros = vec![0u8; MAX_OBJECT_BYTES + (1 << 20)];
        let bomb = zstd::bulk::compress(&zeros, 3).unwrap();
        assert!(bomb.len() < 64 * 1024);
        let e = unpack(9, &bomb, None).unwrap_err().to_string();
        assert!(e.contains("over the 67108864-byte limit"), "{e}");
        // The same without a declared size: refused, not streamed.
        let mut c = zstd::bulk::Compressor::new(3).unwrap();
        c.set_parameter(CParameter::ContentSizeFlag(false)).unwrap();
        let unsized_frame = c.compress(b"{\"a\":1}").unwrap();
        let e = unpack(9, &unsized_frame, None).unwrap_err().to_string();
        assert!(e.contains("does not declare its size"), "{e}");
        // An object over the limit is not stored at all.
        let huge = "x".repeat(MAX_OBJECT_BYTES + 1);
        assert!(Packer::new(None).unwrap().pack(&huge).is_err());
    }

    #[test]
    fn training_is_due_at_the_first_threshold_then_at_each_tenfold_growth() {
        assert!(!training_due(999, None));
        assert!(training_due(1_000, None));
        assert!(!training_due(9_999, Some(1_000)));
        assert!(training_due(10_000, Some(1_000)));
        assert!(!training_due(50_000, Some(10_000)));
        assert!(training_due(100_000, Some(10_000)));
        assert!(
            !training_due(i64::MAX - 1, Some(i64::MAX / 2)),
            "no overflow"
        );
    }

    #[test]
    fn too_few_samples_teach_nothing_and_an_empty_dictionary_means_plain_zstd() {
        assert!(train(&["{}", "{}"]).is_none());
        let empty = Dictionary::new(8, b"");
        let json = samples()[3].repeat(3);
        let frame = frame_of(&json, Some(&empty));
        assert_eq!(unpack(1, &frame, None).unwrap(), json);
        let cache = Dictionaries::default();
        let body = StoredBody {
            row: 1,
            text: String::new(),
            frame: Some(frame),
            dictionary: Some(8),
        };
        assert_eq!(
            cache.read_body(body.clone(), |_| Ok(Vec::new())).unwrap(),
            json
        );
        // Loaded once: a second read does not ask again.
        assert_eq!(
            cache.read_body(body, |_| panic!("loaded twice")).unwrap(),
            json
        );
    }
}
