package api

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/apronlab/apron/allocator"
)

func TestRecordIORoundTrip(t *testing.T) {
	var buf []byte
	events := []Event{{Type: EventHeartbeat}, {Type: EventError, Error: &Error{Message: "a\nb"}}}
	for _, e := range events {
		var err error
		if buf, err = AppendRecord(buf, e); err != nil {
			t.Fatal(err)
		}
	}
	rr := NewRecordReader(bytes.NewReader(buf))
	for i, want := range events {
		var got Event
		if err := rr.Decode(&got); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if got.Type != want.Type {
			t.Errorf("record %d: type %s, want %s", i, got.Type, want.Type)
		}
	}
	if _, err := rr.Next(); err != io.EOF {
		t.Errorf("after the last record: %v, want EOF", err)
	}
}

func TestRecordIOErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"length not a number", "x\n{}", "not a number"},
		{"negative length", "-1\n", "not a number"},
		{"too long", "99999999999\n", "not a number"},
		{"short frame", "10\n{}", "unexpected EOF"},
		{"no newline", "12", "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRecordReader(strings.NewReader(tt.in)).Next()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestToResources(t *testing.T) {
	tests := []struct {
		name string
		in   []Resource
		want string
		err  string
	}{
		{"scalars", []Resource{{Name: "cpus", Type: "SCALAR", Scalar: Scalar{1.5}}, {Name: "mem", Scalar: Scalar{128}}}, "cpus:1.5;mem:128", ""},
		{"reserved", []Resource{{Name: "cpus", Scalar: Scalar{2}, Role: "web"}, {Name: "cpus", Scalar: Scalar{1}, Role: "*"}}, "cpus(web):2;cpus:1", ""},
		{"devices", []Resource{{Name: "gpus", Scalar: Scalar{0.5}, Device: "T4:3"}, {Name: "gpus", Scalar: Scalar{2}, Role: "ml", Device: "A10|T4"}}, "gpus[T4:3]:0.5;gpus(ml)[A10|T4]:2", ""},
		{"bad device", []Resource{{Name: "gpus", Scalar: Scalar{1.5}, Device: "T4:3"}}, "", "a device holds at most 1"},
		{"ranges", []Resource{{Name: "ports", Type: "RANGES"}}, "", "x[0].type"},
		{"negative", []Resource{{Name: "cpus", Scalar: Scalar{-1}}}, "", "x[0].scalar.value"},
		{"bad name", []Resource{{Name: "c;p", Scalar: Scalar{1}}}, "", "x[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ToResources("x", tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error naming %s", err, tt.err)
				}
				return
			}
			if err != nil || !got.Equal(allocator.MustParseResources(tt.want)) {
				t.Fatalf("got %v %v, want %s", got, err, tt.want)
			}
			back, err := ToResources("x", FromResources(got))
			if err != nil || !back.Equal(got) {
				t.Errorf("round trip: %v %v", back, err)
			}
		})
	}
}

func FuzzRecordReader(f *testing.F) {
	f.Add([]byte("2\n{}"))
	f.Add([]byte("21\n{\"type\":\"HEARTBEAT\"}"))
	f.Add([]byte("95\n{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":\"x\"},\"heartbeat_interval_seconds\":15}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rr := NewRecordReader(bytes.NewReader(data))
		for range 100 {
			var e Event
			err := rr.Decode(&e)
			if errors.Is(err, io.EOF) || err != nil {
				return
			}
		}
	})
}

func TestToResourcesLargeAndFineAmounts(t *testing.T) {
	tests := []struct {
		in   []Resource
		want string
	}{
		{[]Resource{{Name: "mem", Scalar: Scalar{Value: 1 << 20}}}, "mem:1048576"},
		{[]Resource{{Name: "mem", Scalar: Scalar{Value: 1e6}}, {Name: "cpus", Scalar: Scalar{Value: 2e7}}}, "mem:1000000;cpus:20000000"},
		{[]Resource{{Name: "cpus", Scalar: Scalar{Value: 0.1 + 0.2}}}, "cpus:0.3"},
		{[]Resource{{Name: "cpus", Role: "web", Scalar: Scalar{Value: 1e6}}}, "cpus(web):1000000"},
	}
	for _, tt := range tests {
		got, err := ToResources("r", tt.in)
		if err != nil {
			t.Fatalf("%v: %v", tt.in, err)
		}
		if got.String() != tt.want {
			t.Errorf("%v: got %s, want %s", tt.in, got, tt.want)
		}
	}
	if _, err := ToResources("r", []Resource{{Name: "mem", Scalar: Scalar{Value: 1e15}}}); err == nil || !strings.Contains(err.Error(), "r[0].scalar.value") {
		t.Errorf("an amount over the maximum: %v, want an error naming r[0].scalar.value", err)
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name, in string
		err      string
	}{
		{"plain", "task-1_a.b", ""},
		{"leading dot", ".hidden", ""},
		{"longest", strings.Repeat("a", MaxNameLen), ""},
		{"empty", "", "empty"},
		{"too long", strings.Repeat("a", MaxNameLen+1), "at most 128"},
		{"dot", ".", "not allowed"},
		{"dot dot", "..", "not allowed"},
		{"slash", "a/b", `'/'`},
		{"space", "a b", `' '`},
		{"unicode", "tâche", "only letters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidName(tt.in)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("ValidName(%.30q) = %v, want error containing %q", tt.in, err, tt.err)
			}
		})
	}
}
