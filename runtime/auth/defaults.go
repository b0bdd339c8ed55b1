package auth

// DefaultACLs are the ACLs of a server given --credentials and no --acls:
// every principal of the credentials may do everything, but no task runs
// as root (run_tasks has no rule, and nothing is permitted by default).
func DefaultACLs() *ACLs {
	all := Rule{Principals: Entity{Type: "ANY"}, Objects: Entity{Type: "ANY"}}
	a := &ACLs{Permissive: false, Rules: map[string][]Rule{}}
	for _, action := range Actions {
		if action != RunTasks {
			a.Rules[action] = []Rule{all}
		}
	}
	return a
}
