//! Counting approvals against the required ones, with separation of duties.
//!
//! Separation of duties holds whatever the policy says:
//! - the requester never approves their own change;
//! - for a change to a service in a compliance scope, the implementer does not approve it
//!   (DORA RTS 2024/1774 Art. 17(1)(b); PCI DSS v4.0 6.5.4);
//! - one person fills at most one required approval, even when they hold several roles.
//!
//! The last rule makes counting an assignment problem: every required slot needs its own person.
//! We solve it as a maximum bipartite matching (Kuhn's augmenting paths; sizes are tiny), so an
//! assignment is found whenever one exists, e.g. required `{security: 1, approver: 1}` with alice
//! (security, approver) and bob (approver) gives alice → security, bob → approver, whatever order
//! the approvals came in.

use serde::{Deserialize, Serialize};

/// One required approval: `count` distinct people who each match `role`.
///
/// `role` is matched against an approver (see [`approvals_satisfied`]):
/// - a role name (`approver`, `security`, `cab`, `admin`, …) matches approvers holding that role;
/// - `team:<name>` matches members of team `<name>`; the default policy uses it for the service
///   owner's team (`team:payments`);
/// - alternatives joined by `|` match an approver who fits any of them (`cab|security`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequiredApproval {
    pub role: String,
    pub count: u32,
}

impl RequiredApproval {
    pub fn new(role: impl Into<String>, count: u32) -> Self {
        RequiredApproval { role: role.into(), count }
    }
}

/// A person who approved, with what they hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approver {
    pub name: String,
    pub roles: Vec<String>,
    pub team: Option<String>,
}

impl Approver {
    pub fn new(name: impl Into<String>, roles: &[&str], team: Option<&str>) -> Self {
        Approver {
            name: name.into(),
            roles: roles.iter().map(|role| (*role).to_owned()).collect(),
            team: team.map(str::to_owned),
        }
    }

    /// Whether this person can fill a requirement of `role` (see [`RequiredApproval`] for the
    /// syntax: a role name, `team:<name>`, or alternatives joined by `|`).
    pub fn matches(&self, role: &str) -> bool {
        role.split('|').map(str::trim).any(|alternative| match alternative.strip_prefix("team:") {
            Some(team) => self.team.as_deref() == Some(team),
            None => !alternative.is_empty() && self.roles.iter().any(|held| held == alternative),
        })
    }
}

/// Where the approvals of a change stand against what the policy requires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalStatus {
    /// Every required approval is filled by a distinct, eligible person.
    pub satisfied: bool,
    /// What is still needed (the same role syntax, with the number of people still missing).
    pub missing: Vec<RequiredApproval>,
    /// Approvals that do not count, with the reason: `(approver, reason)`.
    pub refused: Vec<(String, String)>,
    /// Who fills which requirement: `(approver, role)`.
    pub assigned: Vec<(String, String)>,
}

/// Reason recorded when the requester approved their own change.
pub const REFUSED_REQUESTER: &str = "the requester never approves their own change";
/// Reason recorded when the implementer approved a change in compliance scope.
pub const REFUSED_IMPLEMENTER: &str = "the implementer does not approve a change to a service in compliance scope (DORA RTS 2024/1774 Art. 17(1)(b), PCI DSS 6.5.4)";

/// Matches `approvals` to `required` under separation of duties.
///
/// `scoped` says whether the change touches a service in a compliance scope
/// (any of its services has a compliance scope); then `implementer` does not count either. Several
/// approvals by one person count as one person (their roles are merged). An empty `required` is
/// trivially satisfied: whether that means "approved" is the decision's business
/// (`auto_approve`, `deny`).
pub fn approvals_satisfied(
    required: &[RequiredApproval],
    approvals: &[Approver],
    requester: &str,
    implementer: Option<&str>,
    scoped: bool,
) -> ApprovalStatus {
    let mut refused: Vec<(String, String)> = Vec::new();
    let mut people: Vec<Approver> = Vec::new();
    for approval in approvals {
        if approval.name == requester {
            push_once(&mut refused, &approval.name, REFUSED_REQUESTER);
            continue;
        }
        if scoped && implementer == Some(approval.name.as_str()) {
            push_once(&mut refused, &approval.name, REFUSED_IMPLEMENTER);
            continue;
        }
        match people.iter_mut().find(|person| person.name == approval.name) {
            Some(person) => {
                for role in &approval.roles {
                    if !person.roles.contains(role) {
                        person.roles.push(role.clone());
                    }
                }
                if person.team.is_none() {
                    person.team.clone_from(&approval.team);
                }
            }
            None => people.push(approval.clone()),
        }
    }

    // One slot per person needed; never more slots for a requirement than there are people, so a
    // huge count from a policy costs nothing.
    let mut slots: Vec<usize> = Vec::new();
    for (index, requirement) in required.iter().enumerate() {
        let count = usize::try_from(requirement.count).unwrap_or(usize::MAX).min(people.len());
        slots.extend(std::iter::repeat_n(index, count));
    }
    let eligible: Vec<Vec<usize>> = slots
        .iter()
        .map(|&index| (0..people.len()).filter(|&person| people[person].matches(&required[index].role)).collect())
        .collect();

    // Kuhn's algorithm: slot_of_person[p] = the slot person p fills.
    let mut slot_of_person: Vec<Option<usize>> = vec![None; people.len()];
    for slot in 0..slots.len() {
        let mut visited = vec![false; people.len()];
        augment(slot, &eligible, &mut slot_of_person, &mut visited);
    }

    let mut filled = vec![0u32; required.len()];
    let mut assigned = Vec::new();
    for (person, slot) in slot_of_person.iter().enumerate() {
        if let Some(slot) = slot {
            let index = slots[*slot];
            filled[index] += 1;
            assigned.push((people[person].name.clone(), required[index].role.clone()));
        }
    }
    assigned.sort();
    let missing: Vec<RequiredApproval> = required
        .iter()
        .zip(&filled)
        .filter(|(requirement, filled)| requirement.count > **filled)
        .map(|(requirement, filled)| RequiredApproval::new(requirement.role.clone(), requirement.count - filled))
        .collect();
    ApprovalStatus { satisfied: missing.is_empty(), missing, refused, assigned }
}

/// Tries to give `slot` a person, moving earlier assignments along an augmenting path.
fn augment(slot: usize, eligible: &[Vec<usize>], slot_of_person: &mut [Option<usize>], visited: &mut [bool]) -> bool {
    for &person in &eligible[slot] {
        if visited[person] {
            continue;
        }
        visited[person] = true;
        let free = match slot_of_person[person] {
            None => true,
            Some(other) => augment(other, eligible, slot_of_person, visited),
        };
        if free {
            slot_of_person[person] = Some(slot);
            return true;
        }
    }
    false
}

fn push_once(refused: &mut Vec<(String, String)>, name: &str, reason: &str) {
    if !refused.iter().any(|(who, _)| who == name) {
        refused.push((name.to_owned(), reason.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(pairs: &[(&str, u32)]) -> Vec<RequiredApproval> {
        pairs.iter().map(|(role, count)| RequiredApproval::new(*role, *count)).collect()
    }

    fn check(
        required: &[(&str, u32)],
        approvals: &[Approver],
        implementer: Option<&str>,
        scoped: bool,
    ) -> ApprovalStatus {
        approvals_satisfied(&need(required), approvals, "rita", implementer, scoped)
    }

    #[test]
    fn matching_finds_the_assignment_whatever_the_order() {
        let alice = Approver::new("alice", &["security", "approver"], None);
        let bob = Approver::new("bob", &["approver"], None);
        for approvals in [vec![alice.clone(), bob.clone()], vec![bob.clone(), alice.clone()]] {
            for required in [[("security", 1), ("approver", 1)], [("approver", 1), ("security", 1)]] {
                let status = check(&required, &approvals, None, false);
                assert!(status.satisfied, "{status:?}");
                assert_eq!(
                    status.assigned,
                    vec![("alice".to_owned(), "security".to_owned()), ("bob".to_owned(), "approver".to_owned())]
                );
            }
        }
    }

    #[test]
    fn the_requester_never_counts() {
        let rita = Approver::new("rita", &["approver", "security", "cab"], Some("shop"));
        let status = check(&[("approver", 1)], &[rita], None, false);
        assert!(!status.satisfied);
        assert_eq!(status.missing, need(&[("approver", 1)]));
        assert_eq!(status.refused, vec![("rita".to_owned(), REFUSED_REQUESTER.to_owned())]);
    }

    #[test]
    fn the_implementer_does_not_count_for_scoped_services_only() {
        let ivan = Approver::new("ivan", &["security"], None);
        let scoped = check(&[("security", 1)], std::slice::from_ref(&ivan), Some("ivan"), true);
        assert!(!scoped.satisfied);
        assert_eq!(scoped.refused, vec![("ivan".to_owned(), REFUSED_IMPLEMENTER.to_owned())]);
        let unscoped = check(&[("security", 1)], &[ivan], Some("ivan"), false);
        assert!(unscoped.satisfied, "{unscoped:?}");
        assert!(unscoped.refused.is_empty());
    }

    #[test]
    fn one_person_fills_at_most_one_requirement() {
        let alice = Approver::new("alice", &["security", "approver"], None);
        let status = check(&[("security", 1), ("approver", 1)], std::slice::from_ref(&alice), None, false);
        assert!(!status.satisfied);
        assert_eq!(status.assigned.len(), 1);
        assert_eq!(status.missing.iter().map(|missing| missing.count).sum::<u32>(), 1);
        // Approving twice still makes one person.
        let status = check(&[("approver", 2)], &[alice.clone(), alice], None, false);
        assert!(!status.satisfied);
        assert_eq!(status.missing, need(&[("approver", 1)]));
    }

    #[test]
    fn counts_need_distinct_people() {
        let people = [Approver::new("a", &["approver"], None), Approver::new("b", &["approver"], None)];
        assert!(check(&[("approver", 2)], &people, None, false).satisfied);
        let status = check(&[("approver", 3)], &people, None, false);
        assert_eq!(status.missing, need(&[("approver", 1)]));
        // A huge count from a policy is cheap and simply unmet.
        let status = check(&[("approver", u32::MAX)], &people, None, false);
        assert_eq!(status.missing, need(&[("approver", u32::MAX - 2)]));
    }

    #[test]
    fn team_and_alternative_roles() {
        let olga = Approver::new("olga", &["approver"], Some("shop"));
        let carl = Approver::new("carl", &["cab"], Some("ops"));
        let status = check(&[("team:shop", 1), ("cab|security", 1)], &[carl.clone(), olga.clone()], None, false);
        assert!(status.satisfied, "{status:?}");
        assert!(!olga.matches("team:ops"));
        assert!(!olga.matches("team:"));
        assert!(carl.matches("security|cab"));
        assert!(!carl.matches("security"));
        assert!(!carl.matches(""));
        // Olga is in the team but cannot also fill security-or-CAB.
        let status = check(&[("team:shop", 1), ("cab|security", 1)], &[olga], None, false);
        assert_eq!(status.missing, need(&[("cab|security", 1)]));
    }

    #[test]
    fn every_rule_at_once() {
        // Scoped change: rita requested, ivan implements. sam holds every role but is one person.
        let approvals = [
            Approver::new("rita", &["approver"], None),
            Approver::new("ivan", &["security"], None),
            Approver::new("sam", &["security", "approver", "cab"], Some("pay")),
            Approver::new("pia", &["approver"], Some("pay")),
        ];
        let status = check(&[("security", 1), ("team:pay", 1), ("approver", 1)], &approvals, Some("ivan"), true);
        assert!(!status.satisfied);
        assert_eq!(status.assigned.len(), 2);
        assert_eq!(status.missing.iter().map(|missing| missing.count).sum::<u32>(), 1);
        assert_eq!(status.refused.len(), 2);
        let mut more = approvals.to_vec();
        more.push(Approver::new("tom", &["approver"], None));
        let status = check(&[("security", 1), ("team:pay", 1), ("approver", 1)], &more, Some("ivan"), true);
        assert!(status.satisfied, "{status:?}");
        assert_eq!(
            status.assigned,
            vec![
                ("pia".to_owned(), "team:pay".to_owned()),
                ("sam".to_owned(), "security".to_owned()),
                ("tom".to_owned(), "approver".to_owned()),
            ]
        );
    }

    #[test]
    fn nothing_required_is_satisfied() {
        assert!(check(&[], &[], None, true).satisfied);
        assert!(check(&[("approver", 0)], &[], None, true).satisfied);
    }
}
