package api

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The fixtures in testdata/mesos are calls and events as Mesos writes them
// in JSON (after docs/reservation.md's examples and mesos.proto's
// Offer.Operation.LaunchGroup). Each decodes into apron's types and is
// written back the same: every field name is Mesos', and none is lost.
func TestMesosFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/mesos/*.json")
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata/mesos")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var v any = &Call{}
			if strings.HasPrefix(filepath.Base(file), "operation_") {
				v = &Event{}
			}
			if err := json.Unmarshal(data, v); err != nil {
				t.Fatal(err)
			}
			out, _ := json.Marshal(v)
			var fixture, ours any
			_ = json.Unmarshal(data, &fixture)
			_ = json.Unmarshal(out, &ours)
			if path := notIn(ours, fixture, "$"); path != "" {
				t.Errorf("apron writes %s, which the Mesos fixture does not have as such:\n%s", path, out)
			}
			if path := notIn(fixture, ours, "$"); path != "" {
				t.Errorf("the Mesos fixture has %s, which apron loses:\n%s", path, out)
			}
		})
	}
}

// notIn returns the path of the first value of a that b does not hold
// equally ("" when every key of a is in b with the same value).
func notIn(a, b any, path string) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return path
		}
		for k, x := range av {
			if p := notIn(x, bv[k], path+"."+k); p != "" {
				return p
			}
		}
		return ""
	case []any:
		bv, ok := b.([]any)
		if !ok || len(bv) != len(av) {
			return path
		}
		for i := range av {
			if p := notIn(av[i], bv[i], path+"["+itoa(i)+"]"); p != "" {
				return p
			}
		}
		return ""
	}
	if !reflect.DeepEqual(a, b) {
		return path
	}
	return ""
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestFixtureContents(t *testing.T) {
	read := func(name string) Call {
		var c Call
		data, err := os.ReadFile("testdata/mesos/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	lg := read("launch_group.json").Accept.Operations[0].LaunchGroup
	if lg.Executor.Type != ExecutorDefault || lg.Executor.ExecutorID.Value != "pod-1" || len(lg.TaskGroup.Tasks) != 2 {
		t.Errorf("launch_group: %+v", lg)
	}
	res, err := ToResources("r", lg.Executor.Resources)
	if err != nil || res.String() != "cpus:0.1;mem:32;disk:10" {
		t.Errorf("executor resources %s, %v", res, err)
	}
	for _, name := range []string{"reserve.json", "reserve_refinement.json"} {
		op := read(name).Accept.Operations[0]
		got, err := ReservationOf("r", op.Reserve.Resources[0])
		want := Reservation{Role: "engineering", Dynamic: true, Principal: "fw-principal"}
		if err != nil || got != want {
			t.Errorf("%s: %+v, %v; want %+v", name, got, err, want)
		}
	}
	if id := read("reserve_refinement.json").Accept.Operations[0].ID; id == nil || id.Value != "reserve-1" {
		t.Errorf("operation id %v", id)
	}
}

func TestReservationOf(t *testing.T) {
	dyn := func(role, p string) []ReservationInfo {
		return []ReservationInfo{{Type: ReservationDynamic, Role: role, Principal: p}}
	}
	tests := []struct {
		name string
		in   Resource
		want Reservation
		err  string
	}{
		{"unreserved", Resource{Name: "cpus"}, Reservation{}, ""},
		{"star", Resource{Name: "cpus", Role: "*"}, Reservation{}, ""},
		{"static", Resource{Name: "cpus", Role: "web"}, Reservation{Role: "web"}, ""},
		{"dynamic old format", Resource{Name: "cpus", Role: "web", Reservation: &ReservationInfo{Principal: "p"}}, Reservation{Role: "web", Dynamic: true, Principal: "p"}, ""},
		{"dynamic no principal", Resource{Name: "cpus", Role: "web", Reservation: &ReservationInfo{}}, Reservation{Role: "web", Dynamic: true}, ""},
		{"dynamic stack", Resource{Name: "cpus", Reservations: dyn("web", "p")}, Reservation{Role: "web", Dynamic: true, Principal: "p"}, ""},
		{"static stack", Resource{Name: "cpus", Reservations: []ReservationInfo{{Type: ReservationStatic, Role: "web"}}}, Reservation{Role: "web"}, ""},
		{"reservation on unreserved", Resource{Name: "cpus", Role: "*", Reservation: &ReservationInfo{}}, Reservation{}, "unreserved"},
		{"both formats", Resource{Name: "cpus", Role: "web", Reservations: dyn("web", "p")}, Reservation{}, "cannot be mixed"},
		{"refined", Resource{Name: "cpus", Reservations: append(dyn("eng", "p"), dyn("eng/be", "p")...)}, Reservation{}, "does not refine"},
		{"labels", Resource{Name: "cpus", Role: "web", Reservation: &ReservationInfo{Labels: &Labels{Labels: []Label{{Key: "k"}}}}}, Reservation{}, "labels"},
		{"stack to star", Resource{Name: "cpus", Reservations: dyn("*", "p")}, Reservation{}, "other than *"},
		{"stack no type", Resource{Name: "cpus", Reservations: []ReservationInfo{{Role: "web"}}}, Reservation{}, "STATIC or DYNAMIC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReservationOf("res[0]", tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "res[0]") {
					t.Fatalf("error %v; want one naming res[0] with %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("%+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestMarkReservations(t *testing.T) {
	in := []Resource{
		{Name: "cpus", Type: "SCALAR", Scalar: Scalar{Value: 4}},
		{Name: "cpus", Type: "SCALAR", Scalar: Scalar{Value: 3}, Role: "web"},
		{Name: "mem", Type: "SCALAR", Scalar: Scalar{Value: 512}, Role: "web"},
	}
	dyn := func(name, role string) []DynamicPart {
		if name == "cpus" && role == "web" {
			return []DynamicPart{{Principal: "a", Amount: 1}, {Principal: "b", Amount: 1.5}}
		}
		if name == "mem" {
			return []DynamicPart{{Principal: "a", Amount: 1024}} // more than offered: the offer holds 512
		}
		return nil
	}
	old := MarkReservations(in, false, dyn)
	want := []Resource{
		in[0],
		{Name: "cpus", Type: "SCALAR", Scalar: Scalar{Value: 1}, Role: "web", Reservation: &ReservationInfo{Principal: "a"}},
		{Name: "cpus", Type: "SCALAR", Scalar: Scalar{Value: 1.5}, Role: "web", Reservation: &ReservationInfo{Principal: "b"}},
		{Name: "cpus", Type: "SCALAR", Scalar: Scalar{Value: 0.5}, Role: "web"},
		{Name: "mem", Type: "SCALAR", Scalar: Scalar{Value: 512}, Role: "web", Reservation: &ReservationInfo{Principal: "a"}},
	}
	if !reflect.DeepEqual(old, want) {
		t.Errorf("without refinement:\n got %+v\nwant %+v", old, want)
	}
	refined := MarkReservations(in, true, dyn)
	if r := refined[3]; r.Role != "" || len(r.Reservations) != 1 || r.Reservations[0] != (ReservationInfo{Type: ReservationStatic, Role: "web"}) {
		t.Errorf("static with refinement: %+v", r)
	}
	if r := refined[1]; r.Reservations[0] != (ReservationInfo{Type: ReservationDynamic, Role: "web", Principal: "a"}) || r.Reservation != nil {
		t.Errorf("dynamic with refinement: %+v", r)
	}
	// What MarkReservations writes reads back as it was reserved, and
	// the amounts add up to the input.
	for _, format := range [][]Resource{old, refined} {
		total, err := ToResources("r", format)
		if err != nil || total.String() != "cpus:4;cpus(web):3;mem(web):512" {
			t.Errorf("read back %s, %v", total, err)
		}
	}
}
