package traces

import "strings"

// Microsoft Philly (FORMATS.md section 7): the machine list,
// cluster_machine_list, a CSV of machineId, number of GPUs, single GPU mem
// ("m31,8, 24GB") with a header line. The job log is JSON and not read
// here.

func init() {
	Register(Format{
		Name:     "philly",
		Describe: "Microsoft Philly cluster_machine_list CSV (machines: GPUs only)",
		Detect:   func(head []byte) bool { return aliDetect(head, phillyShape) },
		Machines: phillyMachines,
	})
}

var phillyCols = []string{"machineId", "number of GPUs", "single GPU mem"}

// phillyMachines reads cluster_machine_list: each machine added at time 0
// with its GPUs and, as the attribute gpu_mem, their memory ("24GB"). The
// list gives no CPUs nor memory (nor does the job log ask for any): they
// are 0. Its accuracy is disputed (philly-traces issue #8).
func phillyMachines(in *Input, opts Options) (MachineReader, error) {
	t := &aliTable{in: in, opts: opts, schemas: [][]string{phillyCols}}
	t.stats.Units = "GPUs whole devices; no CPUs or memory"
	return aliMachineList(t, func(r *aliRow) Machine {
		id := r.id(0, "a machine id")
		gpus := r.count(1, 1<<20, "a number of GPUs")
		mem := r.f[2]
		if !phillyGPUMem(mem) {
			r.fail(2, "%q; want a GPU memory size such as 12GB", mem)
		}
		return Machine{ID: id, Capacity: Resources{GPUs: float64(gpus)}, Attributes: map[string]string{"gpu_mem": mem}}
	}), nil
}

// phillyGPUMem: a number of GB, as "24GB".
func phillyGPUMem(s string) bool {
	n, ok := strings.CutSuffix(strings.ToUpper(s), "GB")
	return ok && aliIsNum(strings.TrimSpace(n))
}

func phillyShape(f []string) bool {
	return len(f) == 3 && !aliIsNum(f[0]) && aliIsNum(f[1]) && phillyGPUMem(f[2])
}
