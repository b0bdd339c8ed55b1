package api

// MaxNameLen is the longest id apron accepts for a task, a framework or
// an agent: master and agent share this rule, and an id names a sandbox
// folder.
const MaxNameLen = 200

// NameRule says what ValidName accepts, for error messages.
const NameRule = "an id is 1 to 200 letters, digits, '-', '_' and '.', and not . or .."

// ValidName reports whether s is a valid task, framework or agent id.
func ValidName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !ok {
			return false
		}
	}
	return true
}
