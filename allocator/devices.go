package allocator

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Devices. An agent's GPUs are devices: each holds one unit (1000
// milli-GPUs), has an index on its agent and a model name. A task asks for
// a fraction of one device or for whole devices. In the text form a device
// amount carries its device in brackets after the name (and the role):
//
//	gpus[V100M16:3]:0.5   half of device 3, a V100M16 (placed)
//	gpus[3]:1             device 3, of no model name (placed)
//	gpus[V100M16]:8       8 devices of a V100M16 not yet numbered: an agent
//	                      declares its devices so, and they are numbered
//	                      from 0 when it is added (unplaced)
//	gpus[V100M16|V100M32]:0.5   a request for half a device of one of
//	                      these models (unplaced: a model constraint)
//	gpus[*]:2             two devices of any model (unplaced)
//
// A placed amount is at most 1. An unplaced one is a fraction of one
// device (below 1) or whole devices. A scalar request ("gpus:0.5") on an
// agent whose GPUs are devices is placed like gpus[*]:0.5. Shares count
// devices by name: a framework holding gpus[V100M16:3]:0.5 holds 500
// milli-GPUs of the gpus total.

// Device is a device key parsed: the model, and the index of a placed
// device (-1 for an unplaced amount, whose Models are the models it may go
// on; none means any).
type Device struct {
	Index  int
	Models []string
}

// Placed reports whether the device is a numbered device of an agent.
func (d Device) Placed() bool { return d.Index >= 0 }

// Model returns a placed device's model ("" when it has none).
func (d Device) Model() string {
	if len(d.Models) == 0 {
		return ""
	}
	return d.Models[0]
}

// Allows reports whether an unplaced amount may go on a device of model.
func (d Device) Allows(model string) bool {
	return len(d.Models) == 0 || slices.Contains(d.Models, model)
}

// String writes the device key in its canonical form.
func (d Device) String() string {
	switch {
	case d.Placed() && len(d.Models) == 0:
		return strconv.Itoa(d.Index)
	case d.Placed():
		return d.Models[0] + ":" + strconv.Itoa(d.Index)
	case len(d.Models) == 0:
		return "*"
	}
	return strings.Join(d.Models, "|")
}

// maxDeviceIndex bounds device indices, far above any machine's GPUs.
const maxDeviceIndex = 1 << 16

// ParseDevice reads the bracketed part of a device amount: INDEX,
// MODEL:INDEX, MODEL, MODEL|MODEL... or *. A model is letters, digits,
// '_', '-' and '.', starting with a letter.
func ParseDevice(s string) (Device, error) {
	if s == "*" {
		return Device{Index: -1}, nil
	}
	if model, idx, ok := strings.Cut(s, ":"); ok || allDigits(s) && s != "" {
		if !ok {
			model, idx = "", s
		}
		n, err := strconv.Atoi(idx)
		if err != nil || !allDigits(idx) || n >= maxDeviceIndex {
			return Device{}, fmt.Errorf("device %q: index %q; want a device number from 0 to %d, as in gpus[V100M16:3]", s, idx, maxDeviceIndex-1)
		}
		d := Device{Index: n}
		if ok {
			if err := validateModel(s, model); err != nil {
				return Device{}, err
			}
			d.Models = []string{model}
		}
		return d, nil
	}
	d := Device{Index: -1}
	for _, m := range strings.Split(s, "|") {
		if err := validateModel(s, m); err != nil {
			return Device{}, err
		}
		if !slices.Contains(d.Models, m) {
			d.Models = append(d.Models, m)
		}
	}
	slices.Sort(d.Models)
	return d, nil
}

func validateModel(dev, m string) error {
	if m == "" || !(m[0] >= 'a' && m[0] <= 'z' || m[0] >= 'A' && m[0] <= 'Z') || !validChars(m) {
		return fmt.Errorf("device %q: model %q; want a model name of letters, digits, '_', '-' and '.' starting with a letter (gpus[V100M16:3], gpus[V100M16], gpus[T4|A10], gpus[*] or gpus[3])", dev, m)
	}
	return nil
}

// cutDevice takes the bracketed device off a token's key, returning the
// key without it and the device in canonical form ("" for none).
func cutDevice(key string) (string, string, error) {
	open := strings.IndexByte(key, '[')
	if open < 0 {
		return key, "", nil
	}
	if !strings.HasSuffix(key, "]") {
		return "", "", fmt.Errorf("device %q has no closing ']'; want name[device], as in gpus[V100M16:3]", key[open:])
	}
	d, err := ParseDevice(key[open+1 : len(key)-1])
	if err != nil {
		return "", "", err
	}
	return key[:open], d.String(), nil
}

// Dev returns the entry's device parsed; ok is false for a scalar. The
// device of an entry built by this package is canonical and parses.
func (e Resource) Dev() (Device, bool) {
	if e.Device == "" {
		return Device{}, false
	}
	d, err := ParseDevice(e.Device)
	return d, err == nil
}

// checkDeviceAmount checks a device amount: a placed device holds at most
// one unit; an unplaced amount is a fraction of one device or whole ones.
func checkDeviceAmount(e Resource) error {
	d, ok := e.Dev()
	switch {
	case !ok:
		return nil
	case d.Placed() && e.Value > Milli:
		return fmt.Errorf("device %s adds up to %s; a device holds at most 1", e.key(), e.Value)
	case !d.Placed() && e.Value > Milli && e.Value%Milli != 0:
		return fmt.Errorf("%s:%s; want a fraction of one device (below 1) or whole devices", e.key(), e.Value)
	}
	return nil
}

// NumberDevices numbers the unplaced device amounts of an agent's
// declaration: gpus[V100M16]:2 becomes gpus[V100M16:0]:1;gpus[V100M16:1]:1,
// numbered after the highest index the agent already has for that name
// (gpus[*] becomes devices of no model name). Placed devices are kept.
// Every amount must be whole and every placed device hold at most 1.
func NumberDevices(r Resources) (Resources, error) {
	next := map[string]int{} // by name: the next free index
	for _, e := range r {
		if d, ok := e.Dev(); ok && d.Placed() {
			next[e.Name] = max(next[e.Name], d.Index+1)
		}
	}
	var out Resources
	for _, e := range r {
		d, ok := e.Dev()
		if !ok || d.Placed() {
			if err := checkDeviceAmount(e); err != nil {
				return nil, err
			}
			out = out.Add(Resources{e})
			continue
		}
		if e.Value%Milli != 0 || len(d.Models) > 1 {
			return nil, fmt.Errorf("%s:%s: an agent declares whole devices of one model, such as gpus[V100M16]:8", e.key(), e.Value)
		}
		for range e.Value / Milli {
			dev := Device{Index: next[e.Name], Models: d.Models}
			next[e.Name]++
			out = out.Add(Resources{{Name: e.Name, Role: e.Role, Device: dev.String(), Value: Milli}})
		}
	}
	return out, nil
}

// Take takes need from r: each entry of need by name, reserved entries of
// r first, roles aside. A placed device amount comes from that device; a
// scalar amount from r's scalar entries of its name, or, when r has none
// but has devices of that name, from its devices as an unplaced request; an
// unplaced amount from r's scalar entries when r has no devices of its
// name (GPUs that are not devices: models are not checked), otherwise
// from devices (of its models): a fraction from the device
// with the least free that holds it (the lowest index among equals), whole
// units from as many wholly free devices, lowest index first. It returns
// what is left and what was taken (device amounts placed), or false, taking
// nothing, when r cannot cover need.
func (r Resources) Take(need Resources) (rest, taken Resources, ok bool) {
	rest = slices.Clone(r)
	taken = make(Resources, 0, len(need))
	for _, e := range need {
		if e.Value == 0 {
			continue
		}
		picks, ok := rest.pick(e)
		if !ok {
			return r, nil, false
		}
		for _, p := range picks {
			q := p.q
			for pass := 0; pass < 2 && q > 0; pass++ { // reserved entries first
				for i := range rest {
					h := &rest[i]
					if q == 0 || h.Value == 0 || !p.from(*h) || (h.Role != "") != (pass == 0) {
						continue
					}
					got := min(h.Value, q)
					h.Value -= got
					q -= got
					taken = taken.addIn(Resource{Name: h.Name, Role: h.Role, Device: h.Device, Value: got})
				}
			}
		}
	}
	rest = slices.DeleteFunc(rest, func(e Resource) bool { return e.Value == 0 })
	return rest, taken, true
}

// addIn adds e to the bag r in place.
func (r Resources) addIn(e Resource) Resources {
	if i := r.indexOf(e); i >= 0 {
		r[i].Value += e.Value
		return r
	}
	return append(r, e)
}

// pick is an amount to take from the entries of one (name, device), any
// role.
type pick struct {
	key Resource // name and device
	q   Quantity
}

// from reports whether e is an entry p takes from: its name and device,
// any role.
func (p pick) from(e Resource) bool { return e.Name == p.key.Name && e.Device == p.key.Device }

// pick says where an amount of need comes from in r, or false.
func (r Resources) pick(need Resource) ([]pick, bool) {
	d, isDev := need.Dev()
	hasScalar := slices.ContainsFunc(r, func(e Resource) bool { return e.Name == need.Name && e.Device == "" })
	hasDevices := slices.ContainsFunc(r, func(e Resource) bool { return e.Name == need.Name && e.Device != "" })
	switch {
	case isDev && !d.Placed() && hasScalar && !hasDevices:
		need.Device = "" // GPUs that are not devices: the amount, wherever (models unchecked)
		fallthrough
	case isDev && d.Placed(), !isDev && hasScalar:
		p := pick{Resource{Name: need.Name, Device: need.Device}, need.Value}
		if r.sumOf(p) < need.Value {
			return nil, false
		}
		return []pick{p}, true
	case !isDev:
		d = Device{Index: -1}
	}
	devs := r.devicesOf(need.Name, d)
	free := make([]Quantity, len(devs))
	for i, dev := range devs {
		free[i] = dev.free
	}
	at := FitDevices(free, need.Value)
	if at == nil {
		return nil, false
	}
	picks := make([]pick, len(at))
	for i, k := range at {
		picks[i] = pick{Resource{Name: need.Name, Device: devs[k].key}, min(need.Value, Milli)}
	}
	return picks, true
}

func (r Resources) sumOf(p pick) Quantity {
	var q Quantity
	for _, e := range r {
		if p.from(e) {
			q += e.Value
		}
	}
	return q
}

// freeDevice is a placed device of a bag, its free amount summed over roles.
type freeDevice struct {
	key   string
	index int
	free  Quantity
}

// devicesOf returns the placed devices of name in r that an unplaced
// request d allows, by index.
func (r Resources) devicesOf(name string, d Device) []freeDevice {
	var out []freeDevice
	for _, e := range r {
		dev, ok := e.Dev()
		if e.Name != name || !ok || !dev.Placed() || !d.Allows(dev.Model()) {
			continue
		}
		if i := slices.IndexFunc(out, func(f freeDevice) bool { return f.key == e.Device }); i >= 0 {
			out[i].free += e.Value
		} else {
			out = append(out, freeDevice{e.Device, dev.Index, e.Value})
		}
	}
	slices.SortFunc(out, func(x, y freeDevice) int { return cmp.Compare(x.index, y.index) })
	return out
}

// FitDevices chooses devices for an amount q by the device rules, given
// each device's free amount in order: a fraction (q below one unit) goes
// on the device with the least free that holds it, the first among equals;
// whole units on as many wholly free devices, the first ones. It returns
// the positions chosen, or nil when the devices cannot hold q (or q is
// neither a fraction nor whole units).
func FitDevices(free []Quantity, q Quantity) []int {
	switch {
	case q <= 0:
		return nil
	case q < Milli:
		best := -1
		for i, f := range free {
			if f >= q && (best < 0 || f < free[best]) {
				best = i
			}
		}
		if best < 0 {
			return nil
		}
		return []int{best}
	case q%Milli != 0:
		return nil
	}
	n := int(q / Milli)
	var out []int
	for i, f := range free {
		if f >= Milli && len(out) < n {
			out = append(out, i)
		}
	}
	if len(out) < n {
		return nil
	}
	return out
}
