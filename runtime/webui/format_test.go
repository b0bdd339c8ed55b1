package webui

import (
	"testing"

	"github.com/apronlab/apron/runtime/master"
)

func TestAmount(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    float64
		want string
	}{
		{"mem", 128, "128 MiB"},
		{"mem", 0, "0 MiB"},
		{"mem", 0.5, "0.5 MiB"},
		{"mem", 1024, "1 GiB"},
		{"mem", 11540.5, "11.27 GiB"},
		{"mem", 1536, "1.5 GiB"},
		{"disk", 2 << 20, "2 TiB"},
		{"mem(analytics)", 2048, "2 GiB"},
		{"cpus", 1.5, "1.5"},
		{"gpus", 1024, "1024"},
	} {
		if got := amount(tt.name, tt.v); got != tt.want {
			t.Errorf("amount(%q, %v) = %q, want %q", tt.name, tt.v, got, tt.want)
		}
	}
}

func TestResourceText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"cpus:1;mem:128", "cpus 1, mem 128 MiB"},
		{"cpus(analytics):4;mem:65536;disk:1024", "cpus(analytics) 4, mem 64 GiB, disk 1 GiB"},
		{"not resources", "not resources"},
	} {
		if got := resourceText(tt.in); got != tt.want {
			t.Errorf("resourceText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := amounts(master.Amounts{"mem": 512, "cpus": 1}); got != "cpus 1, mem 512 MiB" {
		t.Errorf("amounts = %q", got)
	}
}
