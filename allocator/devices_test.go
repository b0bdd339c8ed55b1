package allocator_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"pgregory.net/rapid"
)

func TestParseDeviceResources(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"gpus[V100M16:3]:0.5", "gpus[V100M16:3]:0.5"},
		{"gpus[3]:1", "gpus[3]:1"},
		{"gpus[V100M16]:8", "gpus[V100M16]:8"},
		{"gpus[T4|A10]:0.25", "gpus[A10|T4]:0.25"},
		{"gpus[T4|A10|T4]:2", "gpus[A10|T4]:2"},
		{"gpus[*]:2;cpus:4", "gpus[*]:2;cpus:4"},
		{"gpus(ml)[G2:0]:0.5;gpus(ml)[G2:0]:0.25", "gpus(ml)[G2:0]:0.75"},
		{"gpus[G2:0]:0.5;gpus[G2:1]:0.5;gpus:1", "gpus[G2:0]:0.5;gpus[G2:1]:0.5;gpus:1"},
	} {
		r, err := allocator.ParseResources(tc.in)
		if err != nil || r.String() != tc.want {
			t.Errorf("ParseResources(%q) = %q, %v; want %q", tc.in, r, err, tc.want)
			continue
		}
		if again, err := allocator.ParseResources(r.String()); err != nil || !slices.Equal(again, r) {
			t.Errorf("ParseResources(%q) = %v, %v; want it back", r, again, err)
		}
	}
	for _, tc := range []struct{ in, wantErr string }{
		{"gpus[V100M16:3]:1.5", "a device holds at most 1"},
		{"gpus[3]:0.5;gpus[3]:0.75", "a device holds at most 1"},
		{"gpus[*]:1.5", "a fraction of one device"},
		{"gpus[V100M16:3:0.5", "no closing ']'"},
		{"gpus[9x]:1", "want a model name"},
		{"gpus[G2:-1]:1", "want a device number"},
		{"gpus[G2:70000]:1", "want a device number"},
		{"gpus[T4|]:1", "want a model name"},
	} {
		if r, err := allocator.ParseResources(tc.in); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ParseResources(%q) = %v, %v; want an error containing %q", tc.in, r, err, tc.wantErr)
		}
	}
}

func TestNumberDevices(t *testing.T) {
	for _, tc := range []struct{ in, want, wantErr string }{
		{"cpus:4;gpus[T4]:2", "cpus:4;gpus[T4:0]:1;gpus[T4:1]:1", ""},
		{"gpus[T4:0]:1;gpus[T4]:1", "gpus[T4:0]:1;gpus[T4:1]:1", ""},
		{"gpus[*]:1", "gpus[0]:1", ""},
		{"gpus[T4]:0.5", "", "whole devices of one model"},
		{"gpus[T4|A10]:1", "", "whole devices of one model"},
	} {
		got, err := allocator.NumberDevices(res(t, tc.in))
		switch {
		case tc.wantErr == "" && (err != nil || got.String() != tc.want):
			t.Errorf("NumberDevices(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("NumberDevices(%q) = %q, %v; want an error containing %q", tc.in, got, err, tc.wantErr)
		}
	}
}

func TestTakeDevices(t *testing.T) {
	check := checkTake(t)
	have := "cpus:8;gpus[T4:0]:0.25;gpus[T4:1]:0.5;gpus[T4:2]:1;gpus[T4:3]:1;gpus[A10:4]:0.75"
	for _, tc := range []struct{ need, taken string }{
		{"cpus:1;gpus[*]:0.5", "cpus:1;gpus[T4:1]:0.5"},               // the least free that holds it
		{"gpus[*]:0.6", "gpus[A10:4]:0.6"},                            // 0.75 beats the whole ones
		{"gpus[T4]:0.6", "gpus[T4:2]:0.6"},                            // a model constraint
		{"gpus:0.2", "gpus[T4:0]:0.2"},                                // a scalar request placed as gpus[*]
		{"gpus[*]:2", "gpus[T4:2]:1;gpus[T4:3]:1"},                    // whole devices, lowest first
		{"gpus[T4:0]:0.25;gpus[*]:1", "gpus[T4:0]:0.25;gpus[T4:2]:1"}, // placed, then unplaced
		{"gpus[*]:3", ""},
		{"gpus[A10]:1", ""},
		{"gpus[V100M16]:0.1", ""},
		{"cpus:9", ""},
	} {
		check(have, tc.need, tc.taken)
	}
	// GPUs that are not devices hold device requests as amounts.
	for _, tc := range []struct{ need, taken string }{
		{"gpus[*]:0.5;cpus:1", "gpus:0.5;cpus:1"},
		{"gpus[T4]:2", "gpus:2"},
		{"gpus[*]:3", ""},
	} {
		check("cpus:8;gpus:2", tc.need, tc.taken)
	}
}

func checkTake(t *testing.T) func(have, need, want string) {
	return func(have, need, want string) {
		t.Helper()
		rest, taken, ok := res(t, have).Take(res(t, need))
		if ok != (want != "") || taken.String() != want {
			t.Errorf("%q.Take(%q) = %q, %v; want %q", have, need, taken, ok, want)
			return
		}
		if ok && !slices.Equal(rest.Add(taken).Flatten(), res(t, have).Flatten()) {
			t.Errorf("%q.Take(%q): rest %q and taken %q do not add up", have, need, rest, taken)
		}
	}
}

// TestPropertyDevices drives an allocator over agents with GPU devices and
// frameworks that place fractional and whole-GPU requests on their offers:
// no device is ever allocated more than it holds, a fraction lands on one
// device, whole GPUs on wholly free devices of an allowed model, and a
// framework's share counts the milli-GPUs it holds.
func TestPropertyDevices(t *testing.T) {
	models := []string{"T4", "V100M16", "G2"}
	rapid.Check(t, func(t *rapid.T) {
		a, err := allocator.New(allocator.Config{Policy: rapid.SampledFrom([]string{"drf", "random", "hdrf"}).Draw(t, "policy"), Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		for i := range rapid.IntRange(1, 5).Draw(t, "agents") {
			spec := fmt.Sprintf("cpus:64;gpus[%s]:%d", rapid.SampledFrom(models).Draw(t, "model"), rapid.IntRange(1, 8).Draw(t, "gpus"))
			if err := a.AddAgent(allocator.AgentInfo{ID: allocator.AgentID(fmt.Sprintf("a%d", i))}, allocator.MustParseResources(spec)); err != nil {
				t.Fatal(err)
			}
		}
		fws := []allocator.FrameworkID{"f0", "f1"}
		for _, f := range fws {
			if err := a.AddFramework(f, "r-"+string(f)); err != nil {
				t.Fatal(err)
			}
		}
		held := map[allocator.FrameworkID]allocator.Quantity{}
		now := time.Unix(0, 0)
		for range rapid.IntRange(1, 30).Draw(t, "cycles") {
			now = now.Add(time.Second)
			a.Allocate(now)
			for _, o := range a.Offers() {
				need := drawDeviceRequest(t, models)
				_, taken, ok := o.Resources.Take(need)
				if !ok {
					if err := a.Decline(o.ID, -1, now); err != nil {
						t.Fatal(err)
					}
					continue
				}
				checkPlaced(t, need, taken)
				if err := a.Accept(o.ID, taken, -1, now); err != nil {
					t.Fatalf("accept %s of %s: %v", taken, o.Resources, err)
				}
				held[o.Framework] += taken.Sum("gpus")
			}
			checkDevicesNotOver(t, a)
			for _, v := range a.Frameworks() {
				if got := v.Used.Sum("gpus"); got != held[v.ID] {
					t.Fatalf("framework %s uses %s gpus; it accepted %s", v.ID, got, held[v.ID])
				}
			}
		}
	})
}

// drawDeviceRequest draws cpus and a fraction of one GPU or whole GPUs,
// maybe constrained to models.
func drawDeviceRequest(t *rapid.T, models []string) allocator.Resources {
	q := allocator.Quantity(rapid.IntRange(1, 999).Draw(t, "milli"))
	if rapid.Bool().Draw(t, "whole") {
		q = allocator.Units(int64(rapid.IntRange(1, 4).Draw(t, "count")))
	}
	dev := "*"
	if rapid.Bool().Draw(t, "constrained") {
		dev = strings.Join(rapid.SliceOfNDistinct(rapid.SampledFrom(models), 1, 2, rapid.ID[string]).Draw(t, "models"), "|")
	}
	return allocator.MustParseResources(fmt.Sprintf("cpus:1;gpus[%s]:%s", dev, q))
}

// checkPlaced checks where a request's GPUs were placed.
func checkPlaced(t *rapid.T, need, taken allocator.Resources) {
	var want allocator.Device
	var q allocator.Quantity
	for _, e := range need {
		if d, ok := e.Dev(); ok {
			want, q = d, e.Value
		}
	}
	var got []allocator.Resource
	for _, e := range taken {
		d, ok := e.Dev()
		if !ok {
			continue
		}
		if !d.Placed() || !want.Allows(d.Model()) {
			t.Fatalf("request %s took %s: not a placed device of an allowed model", need, e.Device)
		}
		got = append(got, e)
	}
	switch {
	case q < allocator.Milli && (len(got) != 1 || got[0].Value != q):
		t.Fatalf("fraction %s placed as %v; want it whole on one device", q, got)
	case q >= allocator.Milli && len(got) != int(q/allocator.Milli):
		t.Fatalf("%s whole GPUs placed on %d devices: %v", q, len(got), got)
	}
	for _, e := range got {
		if q >= allocator.Milli && e.Value != allocator.Milli {
			t.Fatalf("whole GPUs %s placed with %s on one device", q, e.Value)
		}
	}
}

// checkDevicesNotOver checks that no device is allocated beyond what it
// holds, offers and use together.
func checkDevicesNotOver(t *rapid.T, a *allocator.Allocator) {
	for _, ag := range a.Agents() {
		for _, e := range ag.Allocated {
			if _, ok := e.Dev(); !ok {
				continue
			}
			if total := ag.Total[slices.IndexFunc(ag.Total, func(x allocator.Resource) bool { return x.Device == e.Device })].Value; e.Value > total {
				t.Fatalf("agent %s: device %s allocated %s of %s", ag.ID, e.Device, e.Value, total)
			}
		}
	}
}
