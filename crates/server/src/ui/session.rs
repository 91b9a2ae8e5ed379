//! Server-side UI sessions, held in memory: a random 256-bit id in an `HttpOnly`,
//! `SameSite=Strict` cookie names a session; the store keeps only the id's SHA-256, so
//! neither a lookup's timing nor a memory dump gives a usable id away. A session ends 30
//! minutes after its last use, 12 hours after sign-in, when its user signs it out or
//! revokes it, or when an admin revokes it. Each session holds the CSRF token its forms carry.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Name of the session cookie.
pub const COOKIE: &str = "comity_session";
/// A session unused this long ends.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// A session ends this long after sign-in, however busy.
pub const ABSOLUTE: Duration = Duration::from_secs(12 * 3600);
/// Most sessions held at once; past it, sign-in is refused until some end.
pub const MAX_SESSIONS: usize = 10_000;

/// One signed-in user's session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user.
    pub user: String,
    /// A public handle that names the session on the sessions page (not its id).
    pub handle: String,
    /// The token every form of the session carries.
    pub csrf: String,
    /// The language chosen, if any.
    pub lang: Option<&'static str>,
    /// The time zone chosen (IANA name).
    pub tz: String,
    /// The browser's description of itself at sign-in (shown on the sessions page).
    pub agent: String,
    /// When it began (wall clock, for display).
    pub since: SystemTime,
    started: Instant,
    last_used: Instant,
}

impl Session {
    fn expired(&self, now: Instant) -> bool {
        now.duration_since(self.last_used) >= IDLE || now.duration_since(self.started) >= ABSOLUTE
    }

    /// Whether `token` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, token: &str) -> bool {
        self.csrf.as_bytes().ct_eq(token.as_bytes()).into()
    }
}

/// The sessions of one server.
#[derive(Default)]
pub struct Sessions {
    by_id_hash: Mutex<HashMap<[u8; 32], Session>>,
}

/// A fresh random 256-bit value, hex.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn id_hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// Why no session could begin.
#[derive(Debug, PartialEq, Eq)]
pub struct Full;

impl Sessions {
    /// Begins a session for `user` under a new random id, returned for the cookie.
    pub fn begin(
        &self,
        user: &str,
        lang: Option<&'static str>,
        tz: &str,
        agent: &str,
    ) -> Result<String, Full> {
        let now = Instant::now();
        let mut all = self.by_id_hash.lock().unwrap_or_else(|e| e.into_inner());
        if all.len() >= MAX_SESSIONS {
            all.retain(|_, s| !s.expired(now));
            if all.len() >= MAX_SESSIONS {
                return Err(Full);
            }
        }
        let id = random_hex();
        all.insert(
            id_hash(&id),
            Session {
                user: user.to_owned(),
                handle: random_hex()[..16].to_owned(),
                csrf: random_hex(),
                lang,
                tz: tz.to_owned(),
                agent: agent.chars().take(200).collect(),
                since: SystemTime::now(),
                started: now,
                last_used: now,
            },
        );
        Ok(id)
    }

    /// The live session of cookie value `id`, marked as used now; an expired one ends here.
    pub fn touch(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let key = id_hash(id);
        let mut all = self.by_id_hash.lock().unwrap_or_else(|e| e.into_inner());
        let session = all.get_mut(&key)?;
        if session.expired(now) {
            all.remove(&key);
            return None;
        }
        session.last_used = now;
        Some(session.clone())
    }

    /// Changes the preferences of session `id`.
    pub fn set_preferences(&self, id: &str, lang: Option<&'static str>, tz: Option<&str>) {
        let mut all = self.by_id_hash.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = all.get_mut(&id_hash(id)) {
            if lang.is_some() {
                s.lang = lang;
            }
            if let Some(tz) = tz {
                s.tz = tz.to_owned();
            }
        }
    }

    /// Ends session `id` (sign-out).
    pub fn end(&self, id: &str) {
        let mut all = self.by_id_hash.lock().unwrap_or_else(|e| e.into_inner());
        all.remove(&id_hash(id));
    }

    /// The live sessions that `keep` selects, oldest first.
    fn live(&self, keep: impl Fn(&Session) -> bool) -> Vec<Session> {
        let now = Instant::now();
        let all = self.by_id_hash.lock().unwrap_or_else(|e| e.into_inner());
        let mut found: Vec<Session> = all
            .values()
            .filter(|s| !s.expired(now) && keep(s))
            .cloned()
            .collect();
        found.sort_by_key(|s| s.started);
        found
    }

    /// The live sessions of `user`, oldest first.
    pub fn of_user(&self, user: &str) -> Vec<Session> {
        self.live(|s| s.user == user)
    }

    /// Every live session, oldest first (for admins).
    pub fn all(&self) -> Vec<Session> {
        self.live(|_| true)
    }

    /// Ends the session named by `handle` if `may` allows it; the user it was for.
    fn end_handle(&self, handle: &str, may: impl Fn(&Session) -> bool) -> Option<String> {
        let mut all = self.by_id_hash.lock().unwrap_or_else(|e| e.into_inner());
        let key = all
            .iter()
            .find(|(_, s)| s.handle == handle && may(s))
            .map(|(k, _)| *k)?;
        all.remove(&key).map(|s| s.user)
    }

    /// Ends the session of `user` named by `handle`; false when `user` has none such.
    pub fn revoke(&self, user: &str, handle: &str) -> bool {
        self.end_handle(handle, |s| s.user == user).is_some()
    }

    /// Ends the session named by `handle`, whoever's it is (for admins); the user it was
    /// for, or `None` when no session has this handle.
    pub fn revoke_any(&self, handle: &str) -> Option<String> {
        self.end_handle(handle, |_| true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_id_only_and_ends_when_signed_out() {
        let sessions = Sessions::default();
        let id = sessions.begin("ana", None, "UTC", "test").unwrap();
        assert_eq!(id.len(), 64);
        assert_eq!(sessions.touch(&id).unwrap().user, "ana");
        assert!(sessions.touch(&random_hex()).is_none());
        assert!(sessions.touch("").is_none());
        sessions.end(&id);
        assert!(sessions.touch(&id).is_none());
    }

    #[test]
    fn each_sign_in_gets_new_ids_and_tokens() {
        let sessions = Sessions::default();
        let a = sessions.begin("ana", None, "UTC", "").unwrap();
        let b = sessions.begin("ana", None, "UTC", "").unwrap();
        assert_ne!(a, b);
        let (sa, sb) = (sessions.touch(&a).unwrap(), sessions.touch(&b).unwrap());
        assert_ne!(sa.csrf, sb.csrf);
        assert_ne!(sa.handle, sb.handle);
        assert!(sa.csrf_matches(&sa.csrf));
        assert!(!sa.csrf_matches(&sb.csrf));
        assert!(!sa.csrf_matches(""));
        assert!(!sa.csrf_matches(&sa.csrf[..63]));
    }

    #[test]
    fn a_user_revokes_only_their_own_sessions() {
        let sessions = Sessions::default();
        let mine = sessions.begin("ana", None, "UTC", "").unwrap();
        let theirs = sessions.begin("bob", None, "UTC", "").unwrap();
        let handle = sessions.touch(&theirs).unwrap().handle;
        assert!(
            !sessions.revoke("ana", &handle),
            "ana revoked bob's session"
        );
        assert!(sessions.touch(&theirs).is_some());
        assert_eq!(sessions.of_user("ana").len(), 1);
        let own = sessions.touch(&mine).unwrap().handle;
        assert!(sessions.revoke("ana", &own));
        assert!(sessions.touch(&mine).is_none());
    }

    #[test]
    fn every_session_is_listed_and_any_can_be_ended_by_its_handle() {
        let sessions = Sessions::default();
        let a = sessions.begin("ana", None, "UTC", "").unwrap();
        let b = sessions.begin("bob", None, "UTC", "").unwrap();
        let all = sessions.all();
        assert_eq!(
            all.iter().map(|s| s.user.as_str()).collect::<Vec<_>>(),
            ["ana", "bob"]
        );
        assert_eq!(sessions.revoke_any("no-such-handle"), None);
        assert_eq!(sessions.revoke_any(""), None);
        let handle = sessions.touch(&b).unwrap().handle;
        assert_eq!(sessions.revoke_any(&handle).as_deref(), Some("bob"));
        assert!(sessions.touch(&b).is_none());
        assert!(sessions.touch(&a).is_some());
        assert_eq!(sessions.revoke_any(&handle), None, "ended twice");
        assert_eq!(sessions.all().len(), 1);
    }

    #[test]
    fn idle_and_old_sessions_end() {
        let sessions = Sessions::default();
        let id = sessions.begin("ana", None, "UTC", "").unwrap();
        {
            let mut all = sessions.by_id_hash.lock().unwrap();
            let s = all.get_mut(&id_hash(&id)).unwrap();
            s.last_used = Instant::now() - IDLE;
        }
        assert!(sessions.touch(&id).is_none(), "an idle session lived on");
        let id = sessions.begin("ana", None, "UTC", "").unwrap();
        {
            let mut all = sessions.by_id_hash.lock().unwrap();
            let s = all.get_mut(&id_hash(&id)).unwrap();
            s.started = Instant::now() - ABSOLUTE;
        }
        assert!(
            sessions.touch(&id).is_none(),
            "a 12-hour-old session lived on"
        );
    }

    #[test]
    fn the_number_of_sessions_is_bounded() {
        let sessions = Sessions::default();
        for _ in 0..MAX_SESSIONS {
            sessions.begin("ana", None, "UTC", "").unwrap();
        }
        assert_eq!(sessions.begin("ana", None, "UTC", ""), Err(Full));
    }
}
