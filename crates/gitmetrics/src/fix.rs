//! `fix`: whether a commit message says the change fixes a defect. Kamei et al. (2013) flag a
//! change as a fix when its message contains keywords such as "bug", "fix", "defect" or "patch";
//! this module owns the exact keyword list so that it is written down once.
//!
//! A message is a fix when one of its words — maximal runs of letters and digits, compared
//! case-insensitively — is one of [`FIX_WORDS`]. That is the regular expression
//!
//! ```text
//! (?i)(?<![[:alnum:]])(bugs?|bugfix(es)?|hotfix(es)?|fix(es|ed|ing)?|defects?|patch(es|ed)?)(?![[:alnum:]])
//! ```
//!
//! So "Fix: off-by-one", "bug #12", "apply patch from ann" and "fixes the parser" are fixes;
//! "fixture", "prefix", "debugging" and "dispatch" are not (the keyword is not a whole word).

/// The whole words (lower case) that make a message a fix.
pub const FIX_WORDS: [&str; 15] = [
    "bug", "bugs", "bugfix", "bugfixes", "hotfix", "hotfixes", "fix", "fixes", "fixed", "fixing", "defect", "defects",
    "patch", "patches", "patched",
];

/// Whether `message` contains one of [`FIX_WORDS`] as a whole word.
pub fn is_fix(message: &str) -> bool {
    message
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty() && word.len() <= "bugfixes".len())
        .any(|word| FIX_WORDS.iter().any(|keyword| keyword.eq_ignore_ascii_case(word)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_only() {
        for message in
            ["Fix: off-by-one", "bug #12", "Apply PATCH from ann", "fixes the parser", "[hotfix] x", "BugFix"]
        {
            assert!(is_fix(message), "{message}");
        }
        for message in ["Add fixture", "prefix names", "debugging aid", "dispatch events", ""] {
            assert!(!is_fix(message), "{message}");
        }
    }
}
