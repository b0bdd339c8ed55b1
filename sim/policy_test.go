package sim

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
)

func TestParsePolicyForms(t *testing.T) {
	tests := []struct {
		name, file, text string
		want             string // policy
		err              string
	}{
		{"policy file", "p.yaml", "policy: hdrf\nallocation_interval: 2s\nroles:\n  - {name: a, weight: 2}\n", "hdrf", ""},
		{"sim config", "c.yaml", "seed: 3\nallocator: {policy: static}\ncluster: [{name: h, count: 2, resources: \"cpus:1\"}]\nframeworks: [{name: x, role: x, kind: batch}]\n", "static", ""},
		{"manifest", "manifest.json", `{"apron_version":"dev","allocator":{"Policy":"random","AllocationInterval":1000000000}}`, "random", ""},
		{"unknown key", "p.yaml", "policy: drf\ncolour: red\n", "", "colour"},
		{"unknown policy", "p.yaml", "policy: nosuch\n", "", `p.yaml:1: policy: "nosuch" is not a policy`},
		{"static without partitions", "p.yaml", "policy: static\n", "", "partitions"},
		{"not yaml", "p.yaml", "policy: [\n", "", "p.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParsePolicy(tt.file, []byte(tt.text))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil || c.Policy != tt.want {
				t.Fatalf("got %+v, %v; want policy %s", c, err, tt.want)
			}
		})
	}
}

func TestPolicyYAMLRoundTrips(t *testing.T) {
	c := allocator.Config{Policy: "static", Seed: 7, AllocationInterval: 250 * time.Millisecond, DefaultRefuse: time.Second,
		Roles:        []allocator.RoleConfig{{Name: "a", Weight: 2, Guarantee: allocator.MustParseResources("cpus:1")}},
		Partitions:   []allocator.Partition{{Role: "a", Agents: []allocator.AgentID{"h-1"}}, {Role: "b", Size: 2}},
		Reservations: []allocator.Reservation{{Agent: "h-1", Role: "a", Resources: allocator.MustParseResources("cpus:1;mem:256")}}}
	data, err := PolicyYAML(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePolicy("p.yaml", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	c.MinAllocatable = back.MinAllocatable // defaults filled in by the allocator, not written
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip:\n%+v\nwant\n%+v\n%s", back, c, data)
	}
}

// ParsePolicy reads what a master is posted: any bytes give a config or an
// error, never a panic, and a config it accepts builds an allocator.
func FuzzParsePolicy(f *testing.F) {
	f.Add("p.yaml", []byte("policy: hdrf\nallocation_interval: 2s\nroles:\n  - {name: a, weight: 2, guarantee: \"cpus:1\"}\n"))
	f.Add("p.yaml", []byte("policy: static\npartitions:\n  - {role: a, agents: [host-1]}\n  - {role: b, size: 2}\n"))
	f.Add("c.yaml", []byte("seed: 3\nallocator: {policy: drf}\ncluster: [{name: h, count: 2, resources: \"cpus:1\"}]\nframeworks: [{name: x, role: x, kind: batch}]\n"))
	f.Add("manifest.json", []byte(`{"apron_version":"dev","backend":"sim","allocator":{"Policy":"drf","AllocationInterval":1000000000}}`))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		c, err := ParsePolicy(name, data)
		if err != nil {
			return
		}
		if _, err := allocator.New(c); err != nil {
			t.Fatalf("accepted %q but the allocator refuses it: %v", data, err)
		}
	})
}
