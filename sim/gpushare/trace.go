package gpushare

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/sim/framework"
	"github.com/apronlab/apron/traces"
	"github.com/apronlab/apron/traces/samples"
)

// Node is a machine of the cluster: its capacity and its GPU devices.
type Node struct {
	ID       string
	CPU, Mem allocator.Quantity
	GPUs     int
	Model    string
}

// Pod is a task as the replay places it.
type Pod struct {
	ID     string
	Submit time.Duration
	Shape  framework.Shape
}

// Trace is a node list and a pod list, pods in submit order.
type Trace struct {
	Nodes []Node
	Pods  []Pod
}

// Load reads a node list and a pod list (openb's, or any trace whose
// machines carry gpu_model and whose tasks carry GPU devices); a path
// beginning $TRACES/ is a shipped sample (samples.Resolve).
func Load(nodes, pods string) (*Trace, error) {
	var t Trace
	mt, err := open(nodes, true)
	if err != nil {
		return nil, err
	}
	defer mt.Close()
	for {
		e, err := mt.Machines.NextMachine()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		n, err := nodeOf(e.Machine)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", nodes, err)
		}
		t.Nodes = append(t.Nodes, n)
	}
	jt, err := open(pods, false)
	if err != nil {
		return nil, err
	}
	defer jt.Close()
	for {
		j, err := jt.Jobs.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := t.addJob(j); err != nil {
			return nil, fmt.Errorf("%s: %w", pods, err)
		}
	}
	if len(t.Nodes) == 0 || len(t.Pods) == 0 {
		return nil, fmt.Errorf("%s and %s: %d nodes and %d pods; want some of each", nodes, pods, len(t.Nodes), len(t.Pods))
	}
	return &t, nil
}

func open(path string, machines bool) (*traces.Table, error) {
	paths, err := samples.ResolveAll([]string{path})
	if err != nil {
		return nil, err
	}
	return traces.OpenTable("", machines, traces.Options{}, paths...)
}

// addJob adds a job's tasks as pods, each entry's Count as that many.
func (t *Trace) addJob(j *traces.Job) error {
	for i, task := range j.Tasks {
		s, err := ShapeOf(task)
		if err != nil {
			return fmt.Errorf("job %s task %d: %w", j.ID, i, err)
		}
		for k := range task.N() {
			id := j.ID
			if len(j.Tasks) > 1 || task.N() > 1 {
				id = fmt.Sprintf("%s/%d.%d", j.ID, i, k)
			}
			t.Pods = append(t.Pods, Pod{ID: id, Submit: j.Submit, Shape: s})
		}
	}
	return nil
}

func nodeOf(m traces.Machine) (Node, error) {
	n := Node{ID: m.ID, CPU: quantity(m.Capacity.CPUs), Mem: quantity(m.Capacity.MemMiB), Model: m.Attributes["gpu_model"]}
	if g := m.Capacity.GPUs; g != math.Trunc(g) || g < 0 {
		return Node{}, fmt.Errorf("machine %s has %v GPUs; want whole devices", m.ID, g)
	}
	n.GPUs = int(m.Capacity.GPUs)
	return n, nil
}

func quantity(x float64) allocator.Quantity {
	return allocator.Quantity(math.Round(x * float64(allocator.Milli)))
}

// ShapeOf is a trace task's shape: its GPUs spread over its devices
// (Resources.GPUDevices; a task that says nothing of devices has a
// fraction of one device below 1 GPU, whole devices otherwise).
func ShapeOf(t traces.Task) (framework.Shape, error) {
	r := t.Resources
	s := framework.Shape{CPU: quantity(r.CPUs), Mem: quantity(r.MemMiB)}
	if t.GPUModels != "" {
		s.Models = strings.Split(t.GPUModels, "|")
	}
	gpus := quantity(r.GPUs)
	if gpus == 0 {
		return s, nil
	}
	n := r.GPUDevices
	if n == 0 {
		n = max(1, int(gpus/allocator.Milli))
	}
	s.GPU, s.Count = gpus/allocator.Quantity(n), n
	if s.GPU*allocator.Quantity(n) != gpus || s.GPU > allocator.Milli || n > 1 && s.GPU != allocator.Milli {
		return framework.Shape{}, fmt.Errorf("%v GPUs on %d devices; want a fraction of one device or whole devices", r.GPUs, n)
	}
	return s, nil
}

// GPUCapacity is the cluster's GPU capacity in milli-GPUs.
func (t *Trace) GPUCapacity() allocator.Quantity {
	var c allocator.Quantity
	for _, n := range t.Nodes {
		c += allocator.Quantity(n.GPUs) * allocator.Milli
	}
	return c
}

// Workload is the distribution of the trace's pod shapes, FGD's target
// workload: the most common shapes that cover framework.TypicalCover of the pods.
func (t *Trace) Workload() []framework.WeightedShape {
	shapes := make([]framework.Shape, len(t.Pods))
	for i, p := range t.Pods {
		shapes[i] = p.Shape
	}
	return framework.TypicalShapes(shapes, framework.TypicalCover)
}
