//! Argon2id verification with bounded concurrency and reused memory: at most
//! [`CONCURRENT`] verifications run at once, each in a memory block buffer taken from a
//! pool and given back, so a flood of sign-in attempts neither starves the node's threads
//! nor grows its memory (Argon2id needs 19 MiB per verification with the default
//! parameters; freshly allocated each time, the allocator keeps what a flood took).

use std::sync::Mutex;

use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

/// Verifications running at once (one per core of a small node).
pub const CONCURRENT: usize = 2;
/// Largest memory cost accepted from a stored hash, in KiB (the default is 19 MiB).
const MAX_MEMORY_KIB: usize = 256 * 1024;

/// Runs Argon2id verifications within the bound.
pub struct ArgonPool {
    slots: Semaphore,
    buffers: Mutex<Vec<Vec<Block>>>,
}

impl ArgonPool {
    /// A pool with [`CONCURRENT`] slots and no buffer yet.
    pub fn new() -> Self {
        ArgonPool {
            slots: Semaphore::new(CONCURRENT),
            buffers: Mutex::new(Vec::new()),
        }
    }

    /// Whether `password` matches the PHC string `phc`; `false` for a malformed hash.
    pub async fn verify(&self, password: &str, phc: &str) -> bool {
        let Ok(_slot) = self.slots.acquire().await else {
            return false;
        };
        let mut blocks = self.take_buffer();
        let (password, phc) = (password.to_owned(), phc.to_owned());
        let joined = tokio::task::spawn_blocking(move || {
            let valid = verify_in(&password, &phc, &mut blocks);
            (valid, blocks)
        })
        .await;
        match joined {
            Ok((valid, blocks)) => {
                self.buffers
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(blocks);
                valid
            }
            Err(_) => false,
        }
    }

    fn take_buffer(&self) -> Vec<Block> {
        self.buffers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default()
    }
}

impl Default for ArgonPool {
    fn default() -> Self {
        Self::new()
    }
}

/// Verifies with `blocks` as Argon2's working memory (grown when the hash needs more).
fn verify_in(password: &str, phc: &str, blocks: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else {
        return false;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    if params.block_count() > MAX_MEMORY_KIB {
        tracing::error!(
            kib = params.block_count(),
            "stored password hash asks for too much memory"
        );
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    if blocks.len() < params.block_count() {
        blocks.resize(params.block_count(), Block::default());
    }
    let mut out = [0u8; 64];
    let out = &mut out[..expected.len()];
    let needed = params.block_count();
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut blocks[..needed])
        .is_ok()
        && bool::from(out.ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_like_argon2_and_reuses_its_buffers() {
        let pool = ArgonPool::new();
        let phc = comity_node::admin::hash_password("right").unwrap();
        assert!(pool.verify("right", &phc).await);
        assert!(!pool.verify("wrong", &phc).await);
        assert!(!pool.verify("right", "not a hash").await);
        assert!(
            !pool
                .verify("right", &phc.replace("$argon2id$", "$argon2x$"))
                .await
        );
        for i in 0..8 {
            assert_eq!(
                pool.verify(if i % 2 == 0 { "right" } else { "no" }, &phc)
                    .await,
                i % 2 == 0
            );
        }
        let kept = pool.buffers.lock().unwrap().len();
        assert_eq!(kept, 1, "one buffer, reused by every verification");
    }
}
