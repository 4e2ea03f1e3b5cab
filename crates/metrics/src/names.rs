//! The interner that turns service, team and environment names into small integer ids.
//!
//! A million change facts repeat a few dozen names; holding a `u32` instead of a `String` keeps a
//! fact at a fixed, small size and makes grouping a comparison of integers. One interner serves
//! all three kinds of name: an id means the same text wherever it appears.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::MetricsError;
use crate::facts::{NAME_LENGTH_MAX_BYTES, NAMES_MAX};

/// A name interned by [`Names`]; only meaningful with the interner that issued it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NameId(u32);

impl NameId {
    pub const fn value(self) -> u32 {
        self.0
    }

    pub(crate) const fn index(self) -> usize {
        self.0 as usize
    }
}

/// Names by id and ids by name. Ids are dense from 0 in the order names were first seen.
#[derive(Clone, Debug, Default)]
pub struct Names {
    ids: HashMap<Box<str>, NameId>,
    texts: Vec<Box<str>>,
}

impl Names {
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of `name`, issuing a new one the first time it is seen.
    pub fn intern(&mut self, name: &str) -> Result<NameId, MetricsError> {
        if let Some(id) = self.ids.get(name) {
            return Ok(*id);
        }
        if name.is_empty() {
            return Err(MetricsError::NameEmpty);
        }
        if name.len() > NAME_LENGTH_MAX_BYTES {
            return Err(MetricsError::NameTooLong { length_bytes: name.len() });
        }
        if self.texts.len() >= NAMES_MAX {
            return Err(MetricsError::TooManyNames);
        }
        let id = NameId(self.texts.len() as u32);
        self.texts.push(name.into());
        self.ids.insert(name.into(), id);
        Ok(id)
    }

    /// The id of `name` if it was interned.
    pub fn get(&self, name: &str) -> Option<NameId> {
        self.ids.get(name).copied()
    }

    /// The text of `id`, if this interner issued it.
    pub fn text(&self, id: NameId) -> Option<&str> {
        self.texts.get(id.index()).map(|text| &**text)
    }

    /// Whether this interner issued `id`.
    pub fn contains(&self, id: NameId) -> bool {
        id.index() < self.texts.len()
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The text of an id known to be issued here (the index checks every fact on entry).
    pub(crate) fn text_of(&self, id: NameId) -> &str {
        self.text(id).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_gets_the_same_id_and_limits_hold() {
        // Given an interner with one name.
        let mut names = Names::new();
        let payments = names.intern("payments").unwrap();
        // When the same and another name are interned.
        let again = names.intern("payments").unwrap();
        let search = names.intern("search").unwrap();
        // Then ids are stable and dense, and empty or oversized names are refused.
        assert_eq!(payments, again);
        assert_eq!((payments.value(), search.value()), (0, 1));
        assert_eq!(names.text(search), Some("search"));
        assert_eq!(names.intern(""), Err(MetricsError::NameEmpty));
        let long = "x".repeat(NAME_LENGTH_MAX_BYTES + 1);
        assert_eq!(names.intern(&long), Err(MetricsError::NameTooLong { length_bytes: NAME_LENGTH_MAX_BYTES + 1 }));
    }
}
