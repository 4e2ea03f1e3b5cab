//! Tokens, callers and idempotency keys.
//!
//! A token is 256 random bits, shown once as `cg_` + 64 hex digits. Only its SHA-256 is stored:
//! the token has full entropy, so a slow password hash would add nothing but latency to every
//! request.

use changegate_core::{Actor, Name, Role, UserRecord};
use sha2::{Digest, Sha256};

use crate::{Permission, Service, ServiceError};

const TOKEN_PREFIX: &str = "cg_";
/// Longest idempotency key we accept.
pub const IDEMPOTENCY_KEY_LENGTH_MAX: usize = 255;

/// An authenticated user: the capability every service method asks for.
///
/// Its field is private, so a `Caller` exists only where the service handed one out: by
/// [`Service::authenticate`] (a bearer token), with a user the service just created
/// ([`crate::CreatedUser::caller`]), or as the store's owner acting locally
/// ([`Service::system_caller`], recorded as the actor `system`). No face can make itself an admin.
#[derive(Clone, Debug, PartialEq)]
pub struct Caller {
    user: UserRecord,
}

impl Caller {
    /// Only the service makes callers (see the type's doc).
    pub(crate) fn new(user: UserRecord) -> Self {
        Caller { user }
    }

    pub fn name(&self) -> &Name {
        &self.user.name
    }

    pub fn roles(&self) -> &[Role] {
        &self.user.roles
    }

    pub(crate) fn actor(&self) -> Actor {
        Actor { name: self.user.name.clone(), roles: self.user.roles.clone(), team: self.user.team.clone() }
    }

    pub(crate) fn has_role(&self, role: Role) -> bool {
        self.user.has_role(role)
    }

    pub(crate) fn has_any_role(&self, roles: &[Role]) -> bool {
        roles.iter().any(|role| self.has_role(*role))
    }

    /// Whether this caller holds a role that grants `permission`. The service asks this before it
    /// acts; the faces ask it to decide what to offer.
    pub fn may(&self, permission: Permission) -> bool {
        self.has_any_role(permission.roles())
    }
}

/// The name the store's owner acts under locally (the command line on its own store, the demo):
/// events and denials record it as the actor.
pub const SYSTEM_ACTOR: &str = "system";

/// A new random token and its id (a short public handle derived from its hash).
pub fn generate_token() -> Result<(String, String), ServiceError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| ServiceError::Internal(format!("no randomness available: {error}")))?;
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let token_id = format!("tok_{}", &token_sha256(&token)[..12]);
    Ok((token, token_id))
}

/// SHA-256 of a token, in hex: what the store keeps.
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A validated `Idempotency-Key` with the fingerprint of the request that carried it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    pub fingerprint: String,
}

impl IdempotencyKey {
    /// `request` is any stable description of the request (method, path, body).
    pub fn new(key: &str, request: &[u8]) -> Result<Self, ServiceError> {
        if key.is_empty() || key.len() > IDEMPOTENCY_KEY_LENGTH_MAX || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ServiceError::invalid(
                "Idempotency-Key",
                format!("must be 1 to {IDEMPOTENCY_KEY_LENGTH_MAX} visible ASCII characters"),
            ));
        }
        Ok(IdempotencyKey { key: key.to_owned(), fingerprint: hex::encode(Sha256::digest(request)) })
    }
}

impl Service {
    /// The user a bearer token belongs to.
    pub async fn authenticate(&self, token: &str) -> Result<Caller, ServiceError> {
        let token = token.trim();
        if !token.starts_with(TOKEN_PREFIX) || token.len() != TOKEN_PREFIX.len() + 64 {
            return Err(ServiceError::Unauthenticated);
        }
        match self.store().user_by_token_sha256(&token_sha256(token)).await? {
            Some(user) => Ok(Caller::new(user)),
            None => Err(ServiceError::Unauthenticated),
        }
    }
}

impl Service {
    /// The store's owner acting locally with `role`: the command line on a store it opened from
    /// its own files (training the risk model, reading an assessment) and tools that seed a store.
    /// Whoever can open the store's files can write to it anyway; this makes that explicit, and
    /// the ledger records the actor as [`SYSTEM_ACTOR`]. No face of the server hands this out.
    pub fn system_caller(&self, role: Role) -> Caller {
        let name = Name::parse(SYSTEM_ACTOR).expect("`system` is a valid name");
        Caller::new(UserRecord { name, roles: vec![role], team: None, created_at: self.now() })
    }

    /// The store's owner acting locally as one of the store's users (`changegate assess
    /// --answered-by USER`: answers are recorded with who gave them). `None` when there is no
    /// such user. Like [`Service::system_caller`], only for tools that opened the store's files.
    pub async fn local_caller_as(&self, name: &Name) -> Result<Option<Caller>, ServiceError> {
        Ok(self.store().user(name).await?.map(Caller::new))
    }
}

/// A new random Ed25519 key for signing ledger checkpoints. Its name, which is also the log's
/// origin line, is `changegate-` and 8 random hex digits, so two logs never share an origin.
pub fn generate_signer() -> Result<changegate_ledger::NoteSigner, ServiceError> {
    let mut secret = [0u8; 32];
    let mut suffix = [0u8; 4];
    getrandom::fill(&mut secret)
        .map_err(|error| ServiceError::Internal(format!("no randomness available: {error}")))?;
    getrandom::fill(&mut suffix)
        .map_err(|error| ServiceError::Internal(format!("no randomness available: {error}")))?;
    let name = format!("changegate-{}", hex::encode(suffix));
    changegate_ledger::NoteSigner::from_secret_bytes(&name, &secret)
        .map_err(|error| ServiceError::Internal(error.to_string()))
}
