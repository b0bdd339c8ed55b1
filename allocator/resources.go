package allocator

import (
	"fmt"
	"slices"
	"strings"
)

// Resource is an amount of one named scalar resource, optionally reserved for
// a role and optionally on a device. Names are free-form: cpus, mem (MiB),
// disk (MiB), gpus, or any custom name. Device is "" for a scalar amount;
// otherwise the amount is of devices (GPUs), written in brackets: see
// devices.go.
type Resource struct {
	Name   string
	Role   string // the role it is reserved for; "" means unreserved
	Device string // the device it is on, canonical (see ParseDevice); "" for a scalar
	Value  Quantity
}

// Resources is a bag of resources in the order their (name, role, device)
// keys first appeared. Every function here returns normalized bags: one
// entry per key, no entry of zero. The zero value is empty.
type Resources []Resource

// ParseError says which token of a resource text was wrong and why.
type ParseError struct {
	Input string
	Token string
	Index int // 1-based position of the token among the ';'-separated tokens
	Err   error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("resources %q: token %d %q: %v", e.Input, e.Index, e.Token, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ParseResources reads the Mesos text form: name:value pairs separated by
// ';', each name optionally followed by a reservation role in parentheses
// and by a device in brackets, for example "cpus:2;mem:1024;gpus:1",
// "cpus(analytics):4" or "gpus[V100M16:3]:0.5" (see devices.go for the
// device forms). The role "*" means unreserved. Repeated (name, role,
// device) keys add up. Ranges and sets ("ports:[31000-32000]") are not
// scalars and are rejected.
func ParseResources(s string) (Resources, error) {
	var r Resources
	for i, tok := range strings.Split(s, ";") {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			continue
		}
		res, err := parseToken(tok)
		if err != nil {
			return nil, &ParseError{Input: s, Token: tok, Index: i + 1, Err: err}
		}
		r = r.Add(Resources{res})
		if j := r.indexOf(res); j < 0 {
			continue // a zero amount
		} else if err := checkAmount(r[j]); err != nil {
			return nil, &ParseError{Input: s, Token: tok, Index: i + 1, Err: err}
		}
	}
	return r, nil
}

// checkAmount checks an entry's amount once its repeats are added up.
func checkAmount(e Resource) error {
	if e.Value > Units(MaxUnits) {
		return fmt.Errorf("%s adds up to more than the maximum %d", e.key(), int64(MaxUnits))
	}
	return checkDeviceAmount(e)
}

// MustParseResources is ParseResources for constants in tests and examples;
// it panics on a malformed text.
func MustParseResources(s string) Resources {
	r, err := ParseResources(s)
	if err != nil {
		panic(err)
	}
	return r
}

func parseToken(tok string) (Resource, error) {
	key, val, ok := cutValue(tok)
	if !ok {
		return Resource{}, fmt.Errorf("want name:value, for example cpus:2")
	}
	key, val = strings.TrimSpace(key), strings.TrimSpace(val)
	key, device, err := cutDevice(key)
	if err != nil {
		return Resource{}, err
	}
	name, role := key, ""
	if open := strings.IndexByte(key, '('); open >= 0 {
		if !strings.HasSuffix(key, ")") {
			return Resource{}, fmt.Errorf("reservation %q has no closing ')'; want name(role)", key)
		}
		name, role = key[:open], key[open+1:len(key)-1]
		if role == "*" {
			role = ""
		} else if err := ValidateRole(role); err != nil {
			return Resource{}, err
		}
	}
	if err := validateName(name); err != nil {
		return Resource{}, err
	}
	if strings.HasPrefix(val, "[") || strings.HasPrefix(val, "{") {
		return Resource{}, fmt.Errorf("%s is a range or set; only scalar quantities are supported", name)
	}
	q, err := ParseQuantity(val)
	if err != nil {
		return Resource{}, err
	}
	return Resource{Name: name, Role: role, Device: device, Value: q}, nil
}

// cutValue splits a token at the colon before its value: the first one
// outside a device's brackets.
func cutValue(tok string) (key, val string, ok bool) {
	colon := strings.IndexByte(tok, ':')
	if open := strings.IndexByte(tok, '['); open >= 0 && (colon < 0 || open < colon) {
		if end := strings.IndexByte(tok[open:], ']'); end >= 0 {
			key, val, ok = strings.Cut(tok[open+end+1:], ":")
			return tok[:open+end+1] + key, val, ok && strings.TrimSpace(key) == ""
		}
	}
	return strings.Cut(tok, ":")
}

func validateName(name string) error {
	if name == "" {
		return fmt.Errorf("empty resource name; want a name such as cpus, mem, disk or gpus")
	}
	if c := name[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return fmt.Errorf("resource name %q must start with a letter", name)
	}
	if !validChars(name) {
		return fmt.Errorf("resource name %q may hold only letters, digits, '_', '-' and '.'", name)
	}
	return nil
}

// ValidateRole checks a role name: one or more '/'-separated segments of
// letters, digits, '_', '-' and '.', none of them empty, "." or "..", none
// starting with '-'. "eng" and "eng/ml" are roles.
func ValidateRole(role string) error {
	if role == "" {
		return fmt.Errorf("empty role name")
	}
	for _, seg := range strings.Split(role, "/") {
		switch {
		case seg == "" || seg == "." || seg == "..":
			return fmt.Errorf("role %q has an empty, '.' or '..' segment", role)
		case seg[0] == '-':
			return fmt.Errorf("role %q has a segment starting with '-'", role)
		case !validChars(seg):
			return fmt.Errorf("role %q may hold only letters, digits, '_', '-', '.' and '/'", role)
		}
	}
	return nil
}

func validChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// String prints the Mesos text form; ParseResources(r.String()) equals r.
func (r Resources) String() string {
	var b strings.Builder
	for i, e := range r {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(e.key())
		b.WriteByte(':')
		b.WriteString(e.Value.String())
	}
	return b.String()
}

// key writes an entry's key as the text form does: name(role)[device].
func (e Resource) key() string {
	k := e.Name
	if e.Role != "" {
		k += "(" + e.Role + ")"
	}
	if e.Device != "" {
		k += "[" + e.Device + "]"
	}
	return k
}

// sameKey reports whether e and o are amounts of the same (name, role,
// device).
func (e Resource) sameKey(o Resource) bool {
	return e.Name == o.Name && e.Role == o.Role && e.Device == o.Device
}

// index returns the position of the scalar (name, role) entry, or -1.
func (r Resources) index(name, role string) int {
	return r.indexOf(Resource{Name: name, Role: role})
}

// indexOf returns the position of the entry with e's key, or -1.
func (r Resources) indexOf(e Resource) int {
	for i := range r {
		if r[i].sameKey(e) {
			return i
		}
	}
	return -1
}

// Add returns r + o.
func (r Resources) Add(o Resources) Resources {
	out := slices.Clone(r)
	for _, e := range o {
		if e.Value == 0 {
			continue
		}
		if i := out.indexOf(e); i >= 0 {
			out[i].Value += e.Value
		} else {
			out = append(out, e)
		}
	}
	return out
}

// Sub returns r - o with every entry floored at zero; use Contains first
// where a shortfall would be an error.
func (r Resources) Sub(o Resources) Resources {
	out := make(Resources, 0, len(r))
	for _, e := range r {
		if i := o.indexOf(e); i >= 0 {
			e.Value -= o[i].Value
		}
		if e.Value > 0 {
			out = append(out, e)
		}
	}
	return out
}

// Times returns r with every amount multiplied by n; n of 0 or less gives
// an empty bag.
func (r Resources) Times(n int) Resources {
	if n <= 0 {
		return nil
	}
	out := make(Resources, len(r))
	for i, e := range r {
		e.Value *= Quantity(n)
		out[i] = e
	}
	return out
}

// Get returns the amount of the scalar (name, role) entry; role "" is
// unreserved. Amounts on devices are not counted: Sum counts them.
func (r Resources) Get(name, role string) Quantity {
	if i := r.index(name, role); i >= 0 {
		return r[i].Value
	}
	return 0
}

// Sum returns the amount of a resource name over all roles, reserved or not,
// and all devices: the milli-GPUs of every device for gpus.
func (r Resources) Sum(name string) Quantity {
	var q Quantity
	for _, e := range r {
		if e.Name == name {
			q += e.Value
		}
	}
	return q
}

// Contains reports whether every entry of o fits in r's entry of the same
// (name, role, device).
func (r Resources) Contains(o Resources) bool {
	for _, e := range o {
		if i := r.indexOf(e); e.Value > 0 && (i < 0 || e.Value > r[i].Value) {
			return false
		}
	}
	return true
}

// Equal reports whether r and o hold the same amounts, in any order.
func (r Resources) Equal(o Resources) bool {
	return r.Contains(o) && o.Contains(r)
}

// IsEmpty reports whether r holds nothing.
func (r Resources) IsEmpty() bool {
	for _, e := range r {
		if e.Value != 0 {
			return false
		}
	}
	return true
}

// Unreserved returns the entries of r that are not reserved.
func (r Resources) Unreserved() Resources {
	return r.filter(func(e Resource) bool { return e.Role == "" })
}

// Reserved returns the entries of r that are reserved for some role.
func (r Resources) Reserved() Resources {
	return r.filter(func(e Resource) bool { return e.Role != "" })
}

// Flatten returns r with every reservation and device dropped: amounts
// summed by name.
func (r Resources) Flatten() Resources {
	var out Resources
	for _, e := range r {
		out = out.Add(Resources{{Name: e.Name, Value: e.Value}})
	}
	return out
}

func (r Resources) filter(keep func(Resource) bool) Resources {
	var out Resources
	for _, e := range r {
		if keep(e) && e.Value != 0 {
			out = append(out, e)
		}
	}
	return out
}

// Names returns the distinct resource names in r, sorted.
func (r Resources) Names() []string {
	var names []string
	for _, e := range r {
		if !slices.Contains(names, e.Name) {
			names = append(names, e.Name)
		}
	}
	slices.Sort(names)
	return names
}

// DominantShare returns the largest fraction of total that r holds of any one
// resource name (reservations and devices summed by name): max over names of
// r.Sum(name) / total.Sum(name). Names the total lacks are ignored.
func (r Resources) DominantShare(total Resources) float64 {
	share := 0.0
	for _, name := range r.Names() {
		t := total.Sum(name)
		if t <= 0 {
			continue
		}
		share = max(share, float64(r.Sum(name))/float64(t))
	}
	return share
}
