# Changegate default approval policy (Rego v1).
#
# Entry point: data.changegate.decision, an object with
#   auto_approve        true when the change needs no human approval
#   required_approvals  array of {"role": string, "count": number}
#   deny                array of reasons that block the change
#   warn                array of notes shown to the approver
#
# Roles in required_approvals: "approver", "security", "cab", "team:<name>" (a member of that
# team; the default policy uses it for the service owner's team) and alternatives joined by "|"
# ("cab|security": one person holding either role). Separation of duties (the requester never
# approves, one person fills one required approval, the implementer never approves a scoped
# change) is enforced by Changegate itself when approvals are counted, whatever the policy says.
#
# The policy never reads the clock: `input.now` carries the evaluation time, so every decision
# can be replayed from its recorded input.
package changegate

# Compliance scopes whose services need a security approval and clean security evidence.
sensitive_scopes := {"pci", "hipaa"}

# Risk classes that need the service owner's team plus security or CAB.
high_risk_classes := {"high", "critical"}

change := input.change

# --- facts derived from the input -------------------------------------------------------------

freeze_applies if input.calendar.freeze != null

is_emergency if change.type == "emergency"

high_risk if change.risk_class in high_risk_classes

risk_rank := {"low": 1, "medium": 2, "high": 3, "critical": 4}

approved_template if {
	change.template.approved == true
	risk_rank[change.risk_class] <= risk_rank[template_max_risk]
}

default template_max_risk := "low"

template_max_risk := change.template.max_risk_class if is_string(change.template.max_risk_class)

has_rollback_plan if change.has_rollback_plan == true

has_justification if {
	is_string(change.justification)
	trim_space(change.justification) != ""
}

security_evidence_present if change.security_evidence.present == true

has_test_evidence if {
	is_string(change.test_evidence)
	change.test_evidence != ""
}

sensitive_services contains service.name if {
	some service in input.services
	some scope in service.scopes
	scope in sensitive_scopes
}

sensitive_scope_names contains scope if {
	some service in input.services
	some scope in service.scopes
	scope in sensitive_scopes
}

in_sensitive_scope if count(sensitive_services) > 0

critical_tier_services contains service.name if {
	some service in input.services
	service.tier <= 2
}

owner_teams contains service.team if {
	some service in input.services
}

scope_text := sprintf("%s scope (%s)", [concat("/", sort(sensitive_scope_names)), concat(", ", sort(sensitive_services))])

# --- deny ---------------------------------------------------------------------------------------

deny contains "the change names no service: tier and compliance scope cannot be checked" if {
	count(input.services) == 0
}

deny contains msg if {
	freeze_applies
	not is_emergency
	msg := sprintf("freeze `%s` is in force until %s: only emergency changes may proceed", [input.calendar.freeze.name, input.calendar.freeze.ends_at])
}

deny contains "a standard change must come from an approved template: submit it as a normal change" if {
	change.type == "standard"
	not change.template.approved == true
}

deny contains msg if {
	change.type == "standard"
	change.template.approved == true
	not approved_template
	msg := sprintf("risk %s exceeds the template `%s`'s maximum (%s): submit it as a normal change", [change.risk_class, change.template.name, template_max_risk])
}

deny contains "an emergency change needs a justification: why it cannot wait for approval" if {
	is_emergency
	not has_justification
}

deny contains msg if {
	count(critical_tier_services) > 0
	not has_rollback_plan
	msg := sprintf("tier 1-2 services (%s) need a rollback plan", [concat(", ", sort(critical_tier_services))])
}

deny contains msg if {
	in_sensitive_scope
	not security_evidence_present
	msg := sprintf("services in %s need security evidence (SAST/SCA/secret scan)", [scope_text])
}

deny contains msg if {
	in_sensitive_scope
	security_evidence_present
	findings := change.security_evidence.critical_findings
	findings > 0
	msg := sprintf("security evidence has %v critical finding(s): services in %s may not change with critical findings", [findings, scope_text])
}

# --- auto-approval ------------------------------------------------------------------------------

default auto_approve := false

auto_approve if {
	change.type == "standard"
	approved_template
	change.risk_class == "low"
	not freeze_applies
	not in_sensitive_scope
	count(deny) == 0
}

# --- required approvals -------------------------------------------------------------------------

# Every change that is not auto-approved needs a peer approver, unless high risk asks for the
# owner's team instead (a member of that team is the peer).
required contains {"role": "approver", "count": 1} if {
	not auto_approve
	not high_risk
}

required contains {"role": sprintf("team:%s", [team]), "count": 1} if {
	high_risk
	some team in owner_teams
}

# A security approval required by scope already covers "security or CAB".
required contains {"role": "cab|security", "count": 1} if {
	high_risk
	not in_sensitive_scope
}

required contains {"role": "security", "count": 1} if {
	in_sensitive_scope
}

# --- warnings -----------------------------------------------------------------------------------

warn contains msg if {
	freeze_applies
	is_emergency
	msg := sprintf("emergency change during freeze `%s` (until %s): allowed, with retrospective approval and a post-implementation review", [input.calendar.freeze.name, input.calendar.freeze.ends_at])
}

warn contains "emergency change: it may start before approval; the approvals are then due retrospectively, with a post-implementation review" if {
	is_emergency
	not freeze_applies
}

warn contains msg if {
	count(input.calendar.conflicts) > 0
	msg := sprintf("overlaps with %s on the same or a dependent service", [concat(", ", sort(input.calendar.conflicts))])
}

warn contains "planned outside a maintenance window" if {
	not is_emergency
	input.calendar.in_maintenance_window == false
}

warn contains "no test evidence attached" if {
	not has_test_evidence
}

warn contains msg if {
	input.requester.recent_failures_90d >= 3
	msg := sprintf("the requester had %v failed changes in the last 90 days", [input.requester.recent_failures_90d])
}

warn contains msg if {
	not in_sensitive_scope
	security_evidence_present
	findings := change.security_evidence.critical_findings
	findings > 0
	msg := sprintf("security evidence has %v critical finding(s)", [findings])
}

# --- the decision -------------------------------------------------------------------------------

decision := {
	"auto_approve": auto_approve,
	"required_approvals": [r | some r in required],
	"deny": sort(deny),
	"warn": sort(warn),
}
