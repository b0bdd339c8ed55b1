package api

import "fmt"

// MaxNameLen is the longest agent name, framework id or task id, in
// bytes. It is the isolation package's limit on a cgroup's name, so an
// agent's name is a valid cgroup element, and a task's sandbox path stays
// short.
const MaxNameLen = 128

// ValidName checks an id that names a directory or a cgroup: an agent's
// name, a framework's id or a task's id. It holds only letters, digits,
// '-', '_' and '.', is not "." or "..", and has at most MaxNameLen bytes.
// Master and agent apply this one rule, so a task the master accepts is
// one the agent can run.
func ValidName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("empty; give an id of letters, digits, '-', '_' and '.'")
	case len(s) > MaxNameLen:
		return fmt.Errorf("%.20q... has %d bytes; at most %d are allowed", s, len(s), MaxNameLen)
	case s == "." || s == "..":
		return fmt.Errorf("%q is not allowed (it names a directory)", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !ok {
			return fmt.Errorf("%q has %q; only letters, digits, '-', '_' and '.' are allowed", s, c)
		}
	}
	return nil
}
