//! The actions a user can take on a change, with their names in JSON and on the command line.
//!
//! Why a leaf module: the lifecycle decides which action may happen, and the error of a refused
//! transition names the action; with the action here, importing neither, the two do not import
//! each other. `changegate_core::lifecycle::Action` still names it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The actions a user can take on a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Submit,
    Approve,
    Reject,
    Schedule,
    Start,
    Complete,
    Verify,
    Fail,
    Rollback,
    Review,
    Close,
    Cancel,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::Submit,
        Action::Approve,
        Action::Reject,
        Action::Schedule,
        Action::Start,
        Action::Complete,
        Action::Verify,
        Action::Fail,
        Action::Rollback,
        Action::Review,
        Action::Close,
        Action::Cancel,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Schedule => "schedule",
            Action::Start => "start",
            Action::Complete => "complete",
            Action::Verify => "verify",
            Action::Fail => "fail",
            Action::Rollback => "rollback",
            Action::Review => "review",
            Action::Close => "close",
            Action::Cancel => "cancel",
        }
    }

    /// Approving and rejecting are decisions; every other action is the requester's work.
    pub const fn is_decision(self) -> bool {
        matches!(self, Action::Approve | Action::Reject)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Action::ALL.into_iter().find(|action| action.as_str() == text).ok_or_else(|| {
            let names: Vec<&str> = Action::ALL.iter().map(|action| action.as_str()).collect();
            format!("`{text}` is not an action; use one of: {}", names.join(", "))
        })
    }
}

impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
