package traces

import (
	"fmt"
	"slices"
	"time"
)

// Alibaba cluster-trace-gpu-v2020, the PAI trace (FORMATS.md section 5):
// headerless CSV tables whose columns the .header files name.

func init() {
	Register(Format{
		Name: "pai2020",
		Describe: "Alibaba cluster-trace-gpu-v2020 (PAI) CSV: pai_machine_spec (machines); pai_task_table, " +
			"optionally after pai_job_table, (jobs). Fractional GPUs: plan_gpu 50 = half a GPU",
		Detect: func(head []byte) bool {
			return aliDetect(head, paiSpecShape) || aliDetect(head, paiTaskShape) || aliDetect(head, paiJobShape) ||
				aliDetect(head, paiInstanceShape) // to say that it cannot be read
		},
		Jobs:     paiJobs,
		Machines: paiMachines,
	})
}

// Column names, from the .header files.
var (
	paiSpecCols     = []string{"machine", "gpu_type", "cap_cpu", "cap_mem", "cap_gpu"}
	paiTaskCols     = []string{"job_name", "task_name", "inst_num", "status", "start_time", "end_time", "plan_cpu", "plan_mem", "plan_gpu", "gpu_type"}
	paiJobCols      = []string{"job_name", "inst_id", "user", "status", "start_time", "end_time"}
	paiInstanceCols = []string{"job_name", "task_name", "inst_name", "worker_name", "inst_id", "status", "start_time", "end_time", "machine"}
)

var paiStatuses = []string{"Terminated", "Failed", "Running", "Waiting"}

// paiJobs reads pai_task_table as jobs named by job_name: a row is inst_num
// tasks of plan_cpu/100 cores, plan_mem GB (read as GiB: x 1024 MiB) and
// plan_gpu/100 GPUs (a fraction is a share of one GPU), lasting end_time -
// start_time. Terminated and Failed tasks are observed; Running ones are
// censored at their end_time if any, Waiting ones with no duration. Empty
// requests are 0; an empty start_time (a task not started) does not count
// for the submit time. Times are the trace's, shifted by an unknown constant.
//
// Alone, the task table has no users and no submit times: a job is
// submitted at its earliest task start. Given pai_job_table first (its
// rows, of 6 columns, before the task rows, e.g. as the first file), a job
// gets its user and its submit time (the job's start_time); the job table
// is then held in memory (about 1.2M jobs) until each job's tasks come.
// Jobs of the job table without tasks are left out. pai_instance_table has
// no requests and is not read.
func paiJobs(in *Input, opts Options) (JobReader, error) {
	file, _ := in.Pos()
	head := in.Head(64 << 10)
	switch {
	case aliDetect(head, paiSpecShape):
		return nil, aliMachineTableError(in, "pai_machine_spec")
	case aliDetect(head, paiInstanceShape):
		return nil, fmt.Errorf("%s: this is pai_instance_table, which has no resource requests; read pai_task_table (after pai_job_table for users)", file)
	}
	t := &aliTable{in: in, opts: opts, schemas: [][]string{paiTaskCols, paiJobCols}}
	t.stats.Units = "seconds; CPUs plan_cpu/100 cores; memory plan_mem GiB x 1024 MiB; GPUs plan_gpu/100"
	type jobInfo struct {
		user   string
		submit time.Duration
	}
	jobs := map[string]jobInfo{}
	parse := func(r *aliRow, jr *aliJobRow) bool {
		if r.schema == 1 { // pai_job_table
			name := r.id(0, "a job name")
			user := r.f[2]
			r.word(3, paiStatuses...)
			submit := r.secs(4)
			r.optSecs(5)
			if r.err == nil {
				jobs[name] = jobInfo{user, submit}
			}
			return false
		}
		jr.job = r.id(0, "a job name")
		jr.n, jr.nCol = r.count(2, MaxTasksPerJob, "an instance count"), 2
		status := r.word(3, paiStatuses...)
		start, started := r.optSecs(4)
		end, known := r.optSecs(5)
		cpu := r.opt(6, 0, aliMaxPercent, "a CPU request in percent of a core")
		mem := r.opt(7, 0, aliMaxMiB/1024, "a memory request in GB")
		gpu := r.opt(8, 0, aliMaxPercent, "a GPU request in percent of a GPU")
		jr.start, jr.started = start, started
		jr.task = Task{Resources: Resources{CPUs: cpu / 100, MemMiB: mem * 1024, GPUs: gpu / 100}}
		jr.task.Duration, jr.task.Censored = aliDuration(status, start, end, started && known)
		return true
	}
	finish := func(j *Job) {
		if info, ok := jobs[j.ID]; ok {
			j.User, j.Submit = info.user, max(0, info.submit)
			delete(jobs, j.ID)
		}
	}
	return aliNewJobs(t, parse, finish), nil
}

// paiMachines reads pai_machine_spec: each row a machine added at time 0
// with cap_cpu cores, cap_mem GB (x 1024 MiB) and cap_gpu GPUs, and its
// gpu_type as an attribute.
func paiMachines(in *Input, opts Options) (MachineReader, error) {
	t := &aliTable{in: in, opts: opts, schemas: [][]string{paiSpecCols}}
	t.stats.Units = "CPUs cap_cpu cores; memory cap_mem GiB x 1024 MiB; GPUs cap_gpu"
	return aliMachineList(t, func(r *aliRow) Machine {
		id := r.id(0, "a machine name")
		gpuType := r.id(1, "a GPU type such as CPU, MISC, P100, T4, V100 or V100M32")
		cpus := r.num(2, 0, aliMaxCores, "a number of cores")
		mem := r.num(3, 0, aliMaxMiB/1024, "a memory size in GB")
		gpus := r.count(4, 1<<20, "a number of GPUs")
		return Machine{
			ID:         id,
			Capacity:   Resources{CPUs: cpus, MemMiB: mem * 1024, GPUs: float64(gpus)},
			Attributes: map[string]string{"gpu_type": gpuType},
		}
	}), nil
}

// Shapes of the tables' rows, for detection.
func paiSpecShape(f []string) bool {
	return len(f) == 5 && !aliIsNum(f[0]) && aliIsWord(f[1]) && aliAll(f, aliIsNum, 2, 3, 4)
}

func paiTaskShape(f []string) bool {
	return len(f) == 10 && aliIsNum(f[2]) && aliAll(f, aliIsNumOrEmpty, 4, 5, 6, 7, 8) && slices.Contains(paiStatuses, f[3])
}

func paiJobShape(f []string) bool {
	return len(f) == 6 && aliIsNum(f[4]) && aliIsNumOrEmpty(f[5]) && slices.Contains(paiStatuses, f[3])
}

func paiInstanceShape(f []string) bool {
	return len(f) == len(paiInstanceCols) && aliIsNum(f[6]) && aliIsNumOrEmpty(f[7]) && slices.Contains(paiStatuses, f[5])
}
