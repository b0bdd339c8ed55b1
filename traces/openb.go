package traces

import (
	"cmp"
	"io"
	"slices"
	"strings"
	"time"
)

// Alibaba cluster-trace-gpu-v2023, "openb" (FORMATS.md section 6): CSV
// with a header, a node list and a pod list.

func init() {
	Register(Format{
		Name: "openb",
		Describe: "Alibaba cluster-trace-gpu-v2023 (openb) CSV with a header: openb_node_list_*.csv (machines); " +
			"openb_pod_list_*.csv (jobs of one pod). Fractional GPUs: num_gpu x gpu_milli/1000",
		Detect: func(head []byte) bool {
			return openbHeader(head, openbNodeCols) || openbHeader(head, openbPodCols)
		},
		Jobs:     openbPods,
		Machines: openbNodes,
	})
}

var (
	openbNodeCols = []string{"sn", "cpu_milli", "memory_mib", "gpu", "model"}
	openbPodCols  = []string{"name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec", "qos", "pod_phase", "creation_time", "deletion_time", "scheduled_time"}
)

// openbNodes reads a node list: each node a machine added at time 0 with
// cpu_milli/1000 cores, memory_mib MiB and gpu GPUs, and its GPU model
// (empty for CPU-only nodes: no attribute) as the attribute gpu_model.
func openbNodes(in *Input, opts Options) (MachineReader, error) {
	t := &aliTable{in: in, opts: opts, schemas: [][]string{openbNodeCols}, named: true}
	t.stats.Units = "CPUs cpu_milli/1000 cores; memory MiB; GPUs whole devices"
	return aliMachineList(t, func(r *aliRow) Machine {
		m := Machine{ID: r.id(0, "a node name")}
		m.Capacity.CPUs = r.num(1, 0, aliMaxCores*1000, "CPU in millicores") / 1000
		m.Capacity.MemMiB = r.num(2, 0, aliMaxMiB, "memory in MiB")
		m.Capacity.GPUs = float64(r.count(3, 1<<20, "a number of GPUs"))
		if model := r.f[4]; model != "" {
			m.Attributes = map[string]string{"gpu_model": model}
		}
		return m
	}), nil
}

// openbPods reads a pod list: each pod a job of one task of cpu_milli/1000
// cores, memory_mib MiB and num_gpu x gpu_milli/1000 GPUs (gpu_milli is the
// share of each GPU: below 1000 for GPU-sharing pods, which have one GPU),
// submitted at creation_time, in the group of its qos. Its GPUs are on
// num_gpu devices (Resources.GPUDevices); gpu_spec, the allowed GPU models
// joined by '|', is its GPUModels.
//
// A scheduled pod runs from scheduled_time to deletion_time. It is
// censored when still Running at the end of the trace, that is when its
// deletion_time is the latest of the file (34 pods of the default list;
// most Running pods were deleted earlier, which ended them). A Pending pod
// was never scheduled: its task lasts from creation to deletion, how long
// it asked for resources, and is censored, since no run was observed. To
// know the trace's end the list is read whole; openb lists are small
// (8,152 pods, 0.6 MB).
func openbPods(in *Input, opts Options) (JobReader, error) {
	if openbHeader(in.Head(64<<10), openbNodeCols) {
		return nil, aliMachineTableError(in, "openb node list")
	}
	t := &aliTable{in: in, opts: opts, schemas: [][]string{openbPodCols}, named: true}
	t.stats.Units = "seconds; CPUs cpu_milli/1000 cores; memory MiB; GPUs num_gpu x gpu_milli/1000"
	return &openbPodReader{t: t}, nil
}

type openbPodReader struct {
	t      *aliTable
	jobs   []*Job
	loaded bool
	err    error
}

func (p *openbPodReader) Stats() Stats { return p.t.stats }

func (p *openbPodReader) Next() (*Job, error) {
	if !p.loaded {
		p.loaded, p.err = true, p.load()
	}
	if p.err != nil {
		return nil, p.err
	}
	if len(p.jobs) == 0 {
		return nil, io.EOF
	}
	j := p.jobs[0]
	p.jobs[0], p.jobs = nil, p.jobs[1:]
	return j, nil
}

func (p *openbPodReader) load() error {
	var running []*Job // Running pods, by deletion time in Tasks[0]
	var deleted []time.Duration
	var end time.Duration
	for {
		var j *Job
		var phase string
		var del time.Duration
		err := p.t.next(func(r *aliRow) { j, phase, del = openbPod(r) })
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		p.jobs = append(p.jobs, j)
		end = max(end, del)
		if phase == "Running" {
			running, deleted = append(running, j), append(deleted, del)
		}
	}
	for i, j := range running {
		if deleted[i] == end {
			j.Tasks[0].Censored = true
		}
	}
	slices.SortStableFunc(p.jobs, func(a, b *Job) int { return cmp.Compare(a.Submit, b.Submit) })
	return nil
}

// openbPod reads one pod: its job, phase and deletion time.
func openbPod(r *aliRow) (*Job, string, time.Duration) {
	name := r.id(0, "a pod name")
	cpu := r.num(1, 0, aliMaxCores*1000, "CPU in millicores")
	mem := r.num(2, 0, aliMaxMiB, "memory in MiB")
	gpus := r.count(3, 1<<20, "a number of GPUs")
	milli := r.opt(4, 0, 1000, "a share of each GPU in milli (1000 = whole)")
	qos := r.id(6, "a QoS class such as LS, BE, Burstable or Guaranteed")
	phase := r.word(7, "Pending", "Running", "Succeeded", "Failed", "Unknown")
	created := r.secs(8)
	deleted, delKnown := r.optSecs(9)
	sched, schedKnown := r.optSecs(10)
	task := Task{Resources: Resources{CPUs: cpu / 1000, MemMiB: mem, GPUs: float64(gpus) * milli / 1000, GPUDevices: gpus}, GPUModels: r.f[5]}
	from := sched
	switch {
	case phase == "Pending":
		from, task.Censored = created, true
	case !schedKnown:
		r.fail(10, "empty; want the time the pod was scheduled (only Pending pods have none)")
	case sched < created:
		r.fail(10, "%s is before creation_time %s; want a time at or after it", r.f[10], r.f[8])
	}
	switch {
	case !delKnown:
		task.Censored = true
	case deleted < from:
		since := "scheduled_time " + r.f[10]
		if phase == "Pending" {
			since = "creation_time " + r.f[8]
		}
		r.fail(9, "%s is before %s; want a time at or after it", r.f[9], since)
	default:
		task.Duration = deleted - from
	}
	task.Censored = task.Censored || phase == "Unknown"
	return &Job{ID: name, Submit: max(0, created), Group: qos, Tasks: []Task{task}}, phase, deleted
}

// openbHeader reports whether head starts with a header naming the
// columns.
func openbHeader(head []byte, cols []string) bool {
	line, _, _ := strings.Cut(string(head), "\n")
	fields := strings.Split(strings.TrimSpace(strings.TrimPrefix(line, "\ufeff")), ",")
	for i, f := range fields {
		fields[i] = strings.TrimSpace(f)
	}
	for _, c := range cols {
		if !slices.Contains(fields, c) {
			return false
		}
	}
	return true
}
