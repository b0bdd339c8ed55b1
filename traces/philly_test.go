package traces

import (
	"path/filepath"
	"testing"
)

func TestPhillyMachinesReal(t *testing.T) {
	path := aliSample(t, "philly/cluster_machine_list")
	events, st, err := aliMachinesOf(t, "philly", Options{}, path)
	if err != nil {
		t.Fatal(err)
	}
	// README: 321 machines of 2 GPUs of 12GB, 231 of 8 of 24GB: 552, 2,490 GPUs.
	kinds := map[Resources]map[string]int{}
	var gpus float64
	for _, e := range events {
		c := e.Machine.Capacity
		if kinds[c] == nil {
			kinds[c] = map[string]int{}
		}
		kinds[c][e.Machine.Attributes["gpu_mem"]]++
		gpus += c.GPUs
	}
	if st.Lines != 552 || len(events) != 552 || gpus != 2490 {
		t.Errorf("%d lines, %d machines, %v GPUs; want 552, 552, 2490", st.Lines, len(events), gpus)
	}
	if kinds[Resources{GPUs: 2}]["12GB"] != 321 || kinds[Resources{GPUs: 8}]["24GB"] != 231 {
		t.Errorf("machines by GPUs and GPU memory %v; want 321 x 2 of 12GB and 231 x 8 of 24GB", kinds)
	}
}

func TestPhillyBadLines(t *testing.T) {
	read := func(t testing.TB, opts Options, path string) (Stats, error) {
		_, st, err := aliMachinesOf(t, "philly", opts, path)
		return st, err
	}
	header := "machineId, number of GPUs, single GPU mem\n"
	aliCheckBad(t, "cluster_machine_list", []aliBadCase{
		{"mem", header + "m0,2, 12GB\nm1,2, 12\n", 3, 3, "single GPU mem", `"12"; want a GPU memory size such as 12GB`},
		{"gpus", header + "m0,2, 12GB\nm1,-2, 12GB\n", 3, 2, "number of GPUs", "out of range; want a number of GPUs"},
	}, read)
}

func FuzzPhilly(f *testing.F) {
	f.Add([]byte("machineId, number of GPUs, single GPU mem\nm0,2, 12GB\nm1,2, 12GB\nm96,8, 24GB\nm98,8, 24GB\n"))
	path := filepath.Join(f.TempDir(), "cluster_machine_list")
	f.Fuzz(func(t *testing.T, data []byte) { aliFuzz(t, "philly", path, data, false, true) })
}
