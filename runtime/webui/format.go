package webui

import (
	"strconv"
	"strings"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/master"
)

// Amounts of mem and disk are MiB, as in Mesos; the pages show them with
// a unit that keeps the number short (512 MiB, 11.27 GiB, 2 TiB).

// sized are the resources measured in MiB.
var sized = map[string]bool{"mem": true, "disk": true}

// amount formats the value of resource name ("mem", or "mem(role)" for a
// reservation) with its unit, if it has one.
func amount(name string, v float64) string {
	base, _, _ := strings.Cut(name, "(")
	if !sized[base] {
		return num(v)
	}
	return mib(v)
}

// mib formats a size given in MiB.
func mib(v float64) string {
	units := []string{"MiB", "GiB", "TiB", "PiB"}
	i := 0
	for ; i < len(units)-1 && (v >= 1024 || v <= -1024); i++ {
		v /= 1024
	}
	return strconv.FormatFloat(round2(v), 'f', -1, 64) + " " + units[i]
}

func round2(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 2, 64), 64)
	return r
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// resources formats resources as "cpus 1, mem 128 MiB".
func resources(r allocator.Resources) string {
	parts := make([]string, 0, len(r))
	for _, e := range r {
		name := e.Name
		if e.Role != "" {
			name += "(" + e.Role + ")"
		}
		parts = append(parts, name+" "+amount(name, e.Value.Float()))
	}
	return strings.Join(parts, ", ")
}

// resourceText formats resources in the Mesos text form ("cpus:1;mem:128",
// what /state holds for a task) as resources does; text it cannot parse
// is shown as it is.
func resourceText(s string) string {
	r, err := allocator.ParseResources(s)
	if err != nil {
		return s
	}
	return resources(r)
}

func amounts(a master.Amounts) string { return resources(a.Resources()) }
