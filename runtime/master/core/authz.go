package core

import (
	"fmt"
	"net/http"

	"github.com/apronlab/apron/runtime/auth"
)

// authorize asks the Authorizer whether principal may do action on
// object; a denial is a 403 naming the rule that denied it.
func (c *Core) authorize(principal, action, object, field string) *Refusal {
	if why := c.decide(principal, action, object); why != "" {
		return c.refuse(http.StatusForbidden, field, "%s", why)
	}
	return nil
}

// decide asks the Authorizer whether principal may do action on object:
// "" if it may, else why not.
func (c *Core) decide(principal, action, object string) string {
	if c.cfg.Authorizer == nil {
		return ""
	}
	if d := c.cfg.Authorizer.Authorize(principal, action, object); !d.Allowed {
		return fmt.Sprintf("principal %q may not %s %q: %s", principal, action, object, d)
	}
	return ""
}

// owns refuses a caller that is not the principal something belongs to.
func (c *Core) owns(caller, owner, what, field string) *Refusal {
	if c.cfg.Authorizer == nil || caller == owner {
		return nil
	}
	return c.refuse(http.StatusForbidden, field, "%s belongs to principal %q; the call came from %q", what, owner, caller)
}

// Authorize is an operator's request checked against the ACLs, for the
// shell's endpoints that do not reach the core (the policy, /state, the
// sandboxes).
func (c *Core) Authorize(principal, action, object string) auth.Decision {
	if c.cfg.Authorizer == nil {
		return auth.Decision{Allowed: true, Rule: "no authorizer (--insecure)"}
	}
	return c.cfg.Authorizer.Authorize(principal, action, object)
}
