//! Authentication of local users (HTTP Basic, Argon2id) and the extractors that authorise
//! every route before its handler runs.
//!
//! Argon2id is deliberately slow, so a verified credential is remembered as a keyed hash of
//! (user, stored password hash, password) for a few minutes: a changed password changes the
//! stored hash and so invalidates the entry at once. Failed sign-ins are throttled by the
//! client's address and the name together (5 a minute), and by address alone (20 a
//! minute, whatever the names), so guessing cannot lock anyone else out; a credential
//! verified in the last minutes is never throttled, so an authenticated client is not
//! locked out either. Argon2 work runs in a bounded pool ([`crate::argon_pool`]). Secrets
//! are never logged.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{header, Method};
use base64::Engine;
use comity_node::policy::Channel;
use comity_node::registry::RegistryError;
use comity_node::release::{Release, ViewSpec};
use comity_node::tokens::{self, TokenError};
use comity_store::{Access, Collection, CollectionRef, RegistryKind, Role, Store};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::argon_pool::ArgonPool;
use crate::connections::source_address;
use crate::error::ApiError;
use crate::AppState;
use comity_node::view::{CachedCollection, NodeView};

/// Failed sign-ins allowed per address and name within [`FAILURE_WINDOW`].
const MAX_FAILURES: u32 = 5;
/// Failed sign-ins allowed per address within [`FAILURE_WINDOW`], whatever the names.
const MAX_ADDRESS_FAILURES: u32 = 20;
/// Window over which failures are counted, and how long a throttled name waits.
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// How long a verified credential is remembered.
const CACHE_TTL: Duration = Duration::from_secs(300);
/// Number of remembered credentials (and of tracked failures) past which expired ones are
/// forgotten.
const MAX_ENTRIES: usize = 10_000;

/// Failed sign-ins of one key over the current window.
struct Window {
    count: u32,
    since: Instant,
}

/// Failed sign-ins counted per key (address and name, or address), each over its window.
struct FailureCounts<K> {
    max: u32,
    windows: Mutex<HashMap<K, Window>>,
}

impl<K: Hash + Eq> FailureCounts<K> {
    fn new(max: u32) -> Self {
        FailureCounts {
            max,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one failure of `key` in advance, or the seconds to wait when `key` has used
    /// up its failures. Counting before the verification keeps concurrent guesses within
    /// the budget; a verification that succeeds gives its failure back ([`Self::refund`]).
    fn charge(&self, key: K) -> Result<(), u64> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= MAX_ENTRIES {
            windows.retain(|_, w| w.since.elapsed() < FAILURE_WINDOW);
        }
        let w = windows.entry(key).or_insert(Window {
            count: 0,
            since: Instant::now(),
        });
        let elapsed = w.since.elapsed();
        if elapsed >= FAILURE_WINDOW {
            *w = Window {
                count: 0,
                since: Instant::now(),
            };
        } else if w.count >= self.max {
            return Err((FAILURE_WINDOW - elapsed).as_secs().max(1));
        }
        w.count += 1;
        Ok(())
    }

    /// Gives back a failure charged for an attempt that succeeded.
    fn refund(&self, key: &K) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = windows.get_mut(key) {
            w.count = w.count.saturating_sub(1);
        }
    }
}

/// Verifies credentials; shared by all requests of one server.
pub struct Authenticator {
    cache_key: [u8; 32],
    verified: Mutex<HashMap<[u8; 32], Instant>>,
    by_name: FailureCounts<(IpAddr, String)>,
    by_address: FailureCounts<IpAddr>,
    argon: ArgonPool,
    decoy_hash: String,
}

impl Authenticator {
    /// A new authenticator with a fresh random cache key.
    pub fn new() -> Self {
        let mut cache_key = [0u8; 32];
        rand::Rng::fill(&mut rand::thread_rng(), &mut cache_key);
        Authenticator {
            cache_key,
            verified: Mutex::new(HashMap::new()),
            by_name: FailureCounts::new(MAX_FAILURES),
            by_address: FailureCounts::new(MAX_ADDRESS_FAILURES),
            argon: ArgonPool::new(),
            decoy_hash: comity_node::admin::hash_password("decoy password for unknown users")
                .unwrap_or_default(),
        }
    }

    fn fingerprint(&self, name: &str, stored_hash: &str, password: &str) -> [u8; 32] {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.cache_key).expect("HMAC takes any key length");
        for part in [name, stored_hash, password] {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }

    /// Charges one failure to this address for `name` and for all names, before a
    /// verification; 429 when either has none left.
    fn charge(&self, address: IpAddr, name: &str) -> Result<(), ApiError> {
        let pair = (address, name.to_owned());
        self.by_name
            .charge(pair.clone())
            .map_err(ApiError::too_many_attempts)?;
        if let Err(wait) = self.by_address.charge(address) {
            self.by_name.refund(&pair);
            return Err(ApiError::too_many_attempts(wait));
        }
        Ok(())
    }

    /// Gives back what [`Self::charge`] took, for a credential that proved right.
    fn refund(&self, address: IpAddr, name: &str) {
        self.by_name.refund(&(address, name.to_owned()));
        self.by_address.refund(&address);
    }

    fn is_verified(&self, print: &[u8; 32]) -> bool {
        let verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        verified
            .get(print)
            .is_some_and(|at| at.elapsed() < CACHE_TTL)
    }

    fn remember(&self, print: [u8; 32]) {
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= MAX_ENTRIES {
            verified.retain(|_, at| at.elapsed() < CACHE_TTL);
        }
        verified.insert(print, Instant::now());
    }

    /// Checks a name and password from a client at `address` against the store; `Ok`
    /// with the user's role. A password verified in the last minutes is accepted without
    /// Argon2 and whatever the throttles say; anything else waits for its address's
    /// throttles first.
    pub async fn login(
        &self,
        meta: &NodeView,
        address: IpAddr,
        name: &str,
        password: &str,
    ) -> Result<Role, ApiError> {
        let address = source_address(address);
        let user = meta.user(name).await?;
        let stored = user
            .as_ref()
            .map(|u| u.password_hash.as_str())
            .unwrap_or(&self.decoy_hash);
        let print = self.fingerprint(name, stored, password);
        if let Some(u) = user.as_ref().filter(|_| self.is_verified(&print)) {
            return Ok(u.role);
        }
        self.charge(address, name)?;
        let valid = self.argon.verify(password, stored).await;
        match user {
            Some(u) if valid => {
                self.refund(address, name);
                self.remember(print);
                Ok(u.role)
            }
            _ => {
                tracing::info!(user = %name.escape_debug(), address = %address, "failed login");
                Err(ApiError::unauthorized("wrong user name or password"))
            }
        }
    }
}

impl Default for Authenticator {
    fn default() -> Self {
        Self::new()
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A local user, by password or by one of its API tokens.
    User {
        /// User name.
        name: String,
        /// Role.
        role: Role,
    },
    /// A peer member, by a token an admin issued for it: it reads the policy views made
    /// for it and nothing else.
    Member {
        /// Its member id (`identity--…`).
        member: String,
    },
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who it is.
    pub principal: Principal,
}

impl Caller {
    /// The caller's name for logs: a user name or a member id.
    pub fn name(&self) -> &str {
        match &self.principal {
            Principal::User { name, .. } => name,
            Principal::Member { member } => member,
        }
    }

    /// The local user behind the call; peer members are refused.
    pub fn user(&self) -> Result<(&str, Role), ApiError> {
        match &self.principal {
            Principal::User { name, role } => Ok((name, *role)),
            Principal::Member { member } => Err(ApiError::forbidden(format!(
                "this route serves local users; member {member} reads its policy views only"
            ))),
        }
    }

    /// The local admin behind the call; anyone else is refused.
    pub fn admin(&self) -> Result<&str, ApiError> {
        self.user_in(&[Role::Admin], "this needs an admin")
    }

    /// The local user behind the call when its role is one of `roles`; anyone else is
    /// refused, the refusal ending with `needs` (who may).
    pub fn user_in(&self, roles: &[Role], needs: &str) -> Result<&str, ApiError> {
        match self.user()? {
            (name, role) if roles.contains(&role) => Ok(name),
            (name, role) => Err(ApiError::forbidden(format!(
                "user {name:?} is {}; {needs}",
                role.as_str()
            ))),
        }
    }
}

enum Credentials {
    Basic { name: String, password: String },
    Bearer(String),
}

fn credentials(parts: &Parts) -> Result<Credentials, ApiError> {
    let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("this server requires HTTP Basic or Bearer authentication")
    })?;
    let (scheme, rest) = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .ok_or_else(|| {
            ApiError::unauthorized("the Authorization header must use the Basic or Bearer scheme")
        })?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Credentials::Bearer(rest.trim().to_owned()));
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(ApiError::unauthorized(
            "the Authorization header must use the Basic or Bearer scheme",
        ));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            ApiError::unauthorized("the Basic credentials are not valid base64 UTF-8")
        })?;
    let (name, password) = decoded
        .split_once(':')
        .ok_or_else(|| ApiError::unauthorized("the Basic credentials lack a ':'"))?;
    Ok(Credentials::Basic {
        name: name.to_owned(),
        password: password.to_owned(),
    })
}

impl Authenticator {
    /// Checks a bearer token from a client at `address`; `Ok` with whom it acts for.
    /// Failures are throttled per address and token id like passwords per address and
    /// user name; a token verified in the last minutes passes the throttles (and is still
    /// checked against the store, so a revoked one is refused at once).
    pub async fn bearer(
        &self,
        store: &dyn Store,
        address: IpAddr,
        presented: &str,
    ) -> Result<Principal, ApiError> {
        let address = source_address(address);
        // Only the public id of a well-formed token is ever logged or used as a key: a
        // malformed one may be a secret pasted in the wrong place.
        let key = match tokens::parse(presented) {
            Ok((id, _)) => format!("token:{id}"),
            Err(_) => "token:malformed".to_owned(),
        };
        let print = self.fingerprint(&key, "", presented);
        let charged = !self.is_verified(&print);
        if charged {
            self.charge(address, &key)?;
        }
        let verified = tokens::verify(store, presented, comity_stix::clock::now_us()).await;
        // Only guesses count: a right, expired or revoked token, or a store failure, does not.
        let guessed = matches!(verified, Err(TokenError::Unknown | TokenError::Malformed));
        if charged && !guessed {
            self.refund(address, &key);
        }
        let token = match verified {
            Ok(token) => {
                self.remember(print);
                token
            }
            Err(TokenError::Store(e)) => return Err(e.into()),
            Err(e) => {
                tracing::info!(token = %key.escape_debug(), reason = %e, "failed token login");
                return Err(ApiError::unauthorized(e.to_string()));
            }
        };
        if let Some(member) = token.member {
            let known = store
                .registry_entry(RegistryKind::Member, &member)
                .await?
                .is_some();
            return if known {
                Ok(Principal::Member { member })
            } else {
                Err(ApiError::unauthorized(
                    "the bearer token's member is no longer registered",
                ))
            };
        }
        let user = store
            .user(&token.user)
            .await?
            .ok_or_else(|| ApiError::unauthorized("the bearer token's user no longer exists"))?;
        Ok(Principal::User {
            name: user.name,
            role: user.role,
        })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        // Served by `connections::serve`, every request knows its client; one without (a
        // router driven directly) shares a single unknown address.
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        let outcome = match credentials(parts)? {
            Credentials::Basic { name, password } => state
                .auth
                .login(state.node.view(), address, &name, &password)
                .await
                .map(|role| Principal::User { name, role }),
            Credentials::Bearer(token) => {
                state.auth.bearer(state.node.store(), address, &token).await
            }
        };
        if let Err(e) = &outcome {
            state.metrics.auth_failure(e.status());
        }
        let caller = Caller {
            principal: outcome?,
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

impl Caller {
    /// The caller's permissions on a collection. A policy view is never written; a peer
    /// member reads only the views made for it.
    pub async fn access(
        &self,
        meta: &NodeView,
        collection: &Collection,
    ) -> Result<Access, ApiError> {
        let view = collection.view.as_deref().map(view_spec).transpose()?;
        self.access_with_view(meta, collection, view.as_ref()).await
    }

    /// The plain collections (not policy views) among `collections` this local user may
    /// read, each with the release its objects pass, exactly as a TAXII read of that
    /// collection would; peer members are refused.
    pub async fn readable(
        &self,
        state: &AppState,
        collections: Vec<Collection>,
    ) -> Result<Vec<(Collection, Release)>, ApiError> {
        self.readable_through(state, collections, Channel::TaxiiRead)
            .await
    }

    /// The collections among `collections` the caller may read, each with the release
    /// that decides what of it the caller gets through `channel`.
    pub async fn readable_through(
        &self,
        state: &AppState,
        collections: Vec<Collection>,
        channel: Channel,
    ) -> Result<Vec<(Collection, Release)>, ApiError> {
        let (_, role) = self.user()?;
        let federation = state
            .node
            .view()
            .federation()
            .await
            .map_err(registry_error)?;
        let purpose = federation.local_purpose();
        let mut readable = Vec::new();
        for c in collections {
            if c.view.is_some() || !self.access(state.node.view(), &c).await?.read {
                continue;
            }
            let release = Release::for_user(federation.clone(), role, channel, purpose)
                .from_origin(c.origin.as_deref());
            readable.push((c, release));
        }
        Ok(readable)
    }

    /// The caller's permissions on a cached collection, whose policy view was parsed when
    /// it was cached.
    pub async fn access_cached(
        &self,
        meta: &NodeView,
        cached: &CachedCollection,
    ) -> Result<Access, ApiError> {
        let view = cached_view(cached)?;
        self.access_with_view(meta, &cached.collection, view.as_deref())
            .await
    }

    /// The caller's permissions on a collection whose policy view (if any) is parsed
    /// already.
    async fn access_with_view(
        &self,
        meta: &NodeView,
        collection: &Collection,
        view: Option<&ViewSpec>,
    ) -> Result<Access, ApiError> {
        let (name, role) = match &self.principal {
            Principal::Member { member } => {
                let read = view.is_some_and(|v| v.member == *member);
                return Ok(Access { read, write: false });
            }
            Principal::User { name, role } => (name, *role),
        };
        let mut access = if role == Role::Admin {
            Access {
                read: true,
                write: true,
            }
        } else {
            meta.access(&collection.key(), name).await?
        };
        if role == Role::Viewer || view.is_some() {
            access.write = false;
        }
        Ok(access)
    }
}

/// Reads a collection's view definition.
pub(crate) fn view_spec(text: &str) -> Result<ViewSpec, ApiError> {
    serde_json::from_str(text).map_err(|e| unreadable_view(&e.to_string()))
}

/// The view definition of a cached collection, parsed when it was loaded; an unreadable one
/// fails exactly as [`view_spec`] does.
fn cached_view(collection: &CachedCollection) -> Result<Option<Arc<ViewSpec>>, ApiError> {
    match &collection.view {
        None => Ok(None),
        Some(Ok(view)) => Ok(Some(view.clone())),
        Some(Err(why)) => Err(unreadable_view(why)),
    }
}

fn unreadable_view(why: &str) -> ApiError {
    tracing::error!(error = %why, "unreadable policy view definition");
    ApiError::internal()
}

/// A collection the caller may use for this request's method: reading for GET, writing
/// for POST and DELETE. Collections the caller can neither read nor write are 404, so
/// their existence does not leak.
pub struct CollectionAccess {
    /// The caller.
    pub caller: Caller,
    /// The collection.
    pub collection: Collection,
    /// Its policy view, when it is one, as parsed when the collection was cached.
    pub view: Option<Arc<ViewSpec>>,
}

impl FromRequestParts<AppState> for CollectionAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let (root, id) = match (params.get("root"), params.get("collection")) {
            (Some(r), Some(c)) => (r, c),
            _ => return Err(ApiError::internal()),
        };
        let hidden = || ApiError::not_found(format!("no collection {id:?} in API root {root:?}"));
        let cached = state
            .node
            .view()
            .collection(root, id)
            .await?
            .ok_or_else(hidden)?;
        let view = cached_view(&cached)?;
        let collection = cached.collection;
        let access = caller
            .access_with_view(state.node.view(), &collection, view.as_deref())
            .await?;
        if !access.read && !access.write {
            return Err(hidden());
        }
        let needs_write = parts.method == Method::POST || parts.method == Method::DELETE;
        if needs_write && !access.write {
            let why = if collection.view.is_some() {
                format!("collection {id} is a policy view: it is read-only")
            } else {
                format!("{:?} may not write to collection {id}", caller.name())
            };
            return Err(ApiError::forbidden(why));
        }
        if !needs_write && !access.read {
            return Err(ApiError::forbidden(format!(
                "{:?} may not read collection {id}",
                caller.name()
            )));
        }
        Ok(CollectionAccess {
            caller,
            collection,
            view,
        })
    }
}

impl CollectionAccess {
    /// `caller`'s access to read `collection`, as the collection's GET routes check it;
    /// `None` when the caller may not read it.
    pub async fn to_read(
        state: &AppState,
        caller: &Caller,
        collection: Collection,
    ) -> Result<Option<Self>, ApiError> {
        let view = collection
            .view
            .as_deref()
            .map(view_spec)
            .transpose()?
            .map(Arc::new);
        let access = caller
            .access_with_view(state.node.view(), &collection, view.as_deref())
            .await?;
        Ok(access.read.then(|| CollectionAccess {
            caller: caller.clone(),
            collection,
            view,
        }))
    }

    /// What this request reads from and how objects leave: the collection itself for a
    /// local user, or a view's source collection as its member may read it. Every object
    /// a read returns passes the returned [`Release`].
    pub async fn release(&self, state: &AppState) -> Result<(CollectionRef, Release), ApiError> {
        let federation = state
            .node
            .view()
            .federation()
            .await
            .map_err(registry_error)?;
        if let Some(view) = &self.view {
            let purpose = view.purpose().map_err(|e| {
                tracing::error!(error = %e, "policy view with an unknown purpose");
                ApiError::internal()
            })?;
            let source = state
                .node
                .view()
                .collection(&self.collection.api_root, &view.source)
                .await?
                .map(|source| source.collection)
                .ok_or_else(|| {
                    tracing::error!(view = %self.collection.id, "policy view over a missing collection");
                    ApiError::internal()
                })?;
            let release = Release::for_member(
                federation,
                &view.member,
                view.agreement.as_deref(),
                Channel::TaxiiRead,
                purpose,
            )
            .from_origin(source.origin.as_deref());
            return Ok((source.key(), release));
        }
        let (_, role) = self.caller.user()?;
        let purpose = federation.local_purpose();
        let release = Release::for_user(federation, role, Channel::TaxiiRead, purpose)
            .from_origin(self.collection.origin.as_deref());
        Ok((self.collection.key(), release))
    }
}

/// Maps a registry failure: storage trouble as such, anything else as an internal error.
pub(crate) fn registry_error(e: RegistryError) -> ApiError {
    match e {
        RegistryError::Store(e) => e.into(),
        RegistryError::Invalid(why) => ApiError::bad_request(why),
        corrupt @ RegistryError::Corrupt { .. } => {
            tracing::error!(error = %corrupt, "registry integrity failure");
            ApiError::integrity(corrupt.to_string())
        }
        other => {
            tracing::error!(error = %other, "registry failure");
            ApiError::internal()
        }
    }
}
