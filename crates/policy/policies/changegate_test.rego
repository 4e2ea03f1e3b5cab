# Tests of the default policy: `changegate policy test` runs every test_* rule.
package changegate_test

import data.changegate

# A normal, medium-risk change to a tier-3 service outside any compliance scope.
base := {
	"change": {
		"id": "CHG-000001",
		"type": "normal",
		"title": "Bump the cache size",
		"environment": "production",
		"risk_class": "medium",
		"risk_score": 40,
		"has_rollback_plan": true,
		"test_evidence": "pipeline run 42",
		"security_evidence": {"present": true, "critical_findings": 0},
		"template": null,
		"requester": "rita",
		"implementer": "ivan",
	},
	"services": [{"name": "catalog", "team": "shop", "tier": 3, "scopes": [], "depends_on": []}],
	"calendar": {"freeze": null, "in_maintenance_window": true, "conflicts": []},
	"requester": {"name": "rita", "roles": ["requester"], "team": "shop", "recent_failures_90d": 0},
	"approvals_so_far": [],
	"now": "2026-11-26T10:00:00Z",
}

with_change(patch) := object.union(base, {"change": object.union(base.change, patch)})

with_service(patch) := object.union(base, {"services": [object.union(base.services[0], patch)]})

freeze := {"freeze": {"name": "black-friday", "ends_at": "2026-11-30T00:00:00Z"}, "in_maintenance_window": true, "conflicts": []}

standard := with_change({"type": "standard", "risk_class": "low", "template": {"name": "restart-pod", "approved": true}})

test_standard_low_risk_from_approved_template_auto_approves if {
	d := changegate.decision with input as standard
	d.auto_approve == true
	d.required_approvals == []
	d.deny == []
}

test_standard_during_freeze_is_denied if {
	d := changegate.decision with input as object.union(standard, {"calendar": freeze})
	d.auto_approve == false
	some reason in d.deny
	contains(reason, "black-friday")
}

test_standard_without_approved_template_is_denied if {
	d := changegate.decision with input as with_change({"type": "standard", "risk_class": "low", "template": {"name": "x", "approved": false}})
	d.auto_approve == false
	count(d.deny) == 1
}

test_normal_change_needs_one_peer_approver if {
	d := changegate.decision with input as base
	d.auto_approve == false
	d.required_approvals == [{"role": "approver", "count": 1}]
	d.deny == []
}

test_high_risk_needs_owner_team_and_security_or_cab if {
	d := changegate.decision with input as with_change({"risk_class": "high"})
	d.required_approvals == [{"role": "cab|security", "count": 1}, {"role": "team:shop", "count": 1}]
}

test_pci_scope_needs_security_approval if {
	d := changegate.decision with input as with_service({"scopes": ["pci"]})
	{"role": "security", "count": 1} in d.required_approvals
	d.deny == []
}

test_pci_scope_critical_findings_denied if {
	input_doc := object.union(with_service({"scopes": ["pci"]}), {"change": object.union(base.change, {"security_evidence": {"present": true, "critical_findings": 2}})})
	d := changegate.decision with input as input_doc
	some reason in d.deny
	contains(reason, "critical finding")
}

test_tier_one_without_rollback_plan_denied if {
	input_doc := object.union(with_service({"tier": 1}), {"change": object.union(base.change, {"has_rollback_plan": false})})
	d := changegate.decision with input as input_doc
	some reason in d.deny
	contains(reason, "rollback plan")
}

test_emergency_during_freeze_allowed_with_warning if {
	input_doc := object.union(with_change({"type": "emergency", "justification": "checkout is down"}), {"calendar": freeze})
	d := changegate.decision with input as input_doc
	d.deny == []
	some note in d.warn
	contains(note, "emergency change during freeze")
}

test_emergency_without_justification_is_denied if {
	d := changegate.decision with input as with_change({"type": "emergency"})
	some reason in d.deny
	contains(reason, "justification")
}

test_standard_above_template_maximum_risk_is_denied if {
	d := changegate.decision with input as with_change({"type": "standard", "risk_class": "high", "template": {"name": "restart-pod", "approved": true, "max_risk_class": "medium"}})
	d.auto_approve == false
	some reason in d.deny
	contains(reason, "exceeds the template")
}
