//! The transparency log's signed texts as peers and auditors send them: signed notes,
//! checkpoints, signature lines, tlog-witness requests and offline proofs.
#![no_main]

use comity_tlog::checkpoint::Checkpoint;
use comity_tlog::note::{Note, NoteSignature, Verifier};
use comity_tlog::offline::TlogProof;
use comity_tlog::witness::AddCheckpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Note::parse(data);
    let _ = TlogProof::parse(data);
    let _ = AddCheckpoint::parse(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Checkpoint::parse(text);
        let _ = NoteSignature::parse_line(text, 1);
        let _ = Verifier::parse(text);
    }
});
