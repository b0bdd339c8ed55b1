package sim

import (
	"io"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/internal/conf"
	"github.com/apronlab/apron/sim/framework"
	"github.com/apronlab/apron/traces"
)

// Machines takes the cluster from a trace's machine table: the machines
// present at time 0 are the starting agents (named by their trace ids), and
// every later add, remove and update becomes a machine event.
type Machines struct {
	TraceFiles `yaml:",inline"`
	// GPUDevices declares each machine's GPUs as devices of its gpu_model
	// attribute (gpus[MODEL]:N, numbered when the agent is added; devices
	// of no model when it has none) rather than one amount, so that tasks'
	// GPU shares are placed on devices.
	GPUDevices bool `yaml:"gpu_devices" json:"gpu_devices,omitempty"`
	// Skipped counts the malformed lines skipped with SkipBad.
	Skipped int64 `yaml:"-" json:"skipped,omitempty"`
	loaded  bool
}

// loadMachines reads the machine table into the cluster and the machine
// events. A machine with neither CPUs nor GPUs (a trace row of zero
// capacity) is left out: nothing could run on it.
func (c *Config) loadMachines() error {
	m := c.Machines
	if m.loaded {
		return nil
	}
	m.loaded = true
	if len(m.Trace) == 0 {
		return conf.Errorf("machines.trace", "no file; want the part files of a machine table")
	}
	t, err := m.open(true)
	if err != nil {
		return conf.At("machines.trace", err)
	}
	defer t.Close()
	if t.Machines == nil {
		return conf.Errorf("machines.trace", "%s holds jobs, not machines", m.Trace[0])
	}
	for {
		e, err := t.Machines.NextMachine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return conf.At("machines.trace", err)
		}
		c.addMachineEvent(e)
	}
	m.Skipped = t.Stats().Skipped
	return nil
}

func (c *Config) addMachineEvent(e *traces.MachineEvent) {
	c0 := e.Machine.Capacity
	if e.Kind != traces.MachineRemove && c0.CPUs <= 0 && c0.GPUs <= 0 {
		return
	}
	res := Resources{framework.Resources(c0)}
	if c.Machines.GPUDevices {
		res.Resources = gpuDevices(res.Resources, e.Machine.Attributes["gpu_model"])
	}
	if e.At == 0 && e.Kind == traces.MachineAdd {
		c.Cluster = append(c.Cluster, Group{Name: e.Machine.ID, Count: 1, Resources: res, Attributes: e.Machine.Attributes})
		return
	}
	kind := map[traces.MachineEventKind]string{traces.MachineAdd: "add", traces.MachineRemove: "remove", traces.MachineUpdate: "update"}[e.Kind]
	c.MachineEvents = append(c.MachineEvents, MachineEvent{At: Duration(max(e.At, time.Duration(0))), Kind: kind, Name: e.Machine.ID, Resources: res, Attributes: e.Machine.Attributes})
}

// gpuDevices writes a machine's GPUs as devices of model (of no model
// when model is empty or no model name).
func gpuDevices(r allocator.Resources, model string) allocator.Resources {
	dev := "*"
	if d, err := allocator.ParseDevice(model); err == nil && !d.Placed() && len(d.Models) == 1 {
		dev = d.String()
	}
	for i, e := range r {
		if e.Name == "gpus" {
			r[i].Device = dev
		}
	}
	return r
}
