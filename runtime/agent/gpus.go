package agent

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/apronlab/apron/allocator"
)

// GPUs reads an agent's --gpus list: its GPU devices, comma-separated, each
// as the resource text form writes a device (docs/design.md): MODEL:INDEX
// (T4:0), MODEL alone (the next index) or INDEX alone (a device of no
// model); "none" declares none. The devices come back numbered, one
// gpus[MODEL:INDEX]:1 each.
func GPUs(list string) (allocator.Resources, error) {
	list = strings.TrimSpace(list)
	if list == "none" || list == "" {
		return nil, nil
	}
	var r allocator.Resources
	for i, dev := range strings.Split(list, ",") {
		d, err := allocator.ParseDevice(strings.TrimSpace(dev))
		if err == nil && !d.Placed() && len(d.Models) != 1 {
			err = fmt.Errorf("%q names no one model; want MODEL:INDEX, MODEL or INDEX", dev)
		}
		if err != nil {
			return nil, fmt.Errorf("--gpus: device %d: %w", i+1, err)
		}
		r = append(r, allocator.Resource{Name: "gpus", Device: d.String(), Value: allocator.Milli})
	}
	out, err := allocator.NumberDevices(r)
	if err != nil {
		return nil, fmt.Errorf("--gpus %q: %w", list, err)
	}
	if len(out) != len(r) {
		return nil, fmt.Errorf("--gpus %q: a device is listed twice", list)
	}
	return out, nil
}

// DetectGPUs asks nvidia-smi for the machine's GPUs, each a device of its
// index and model name; none when nvidia-smi is not installed.
func DetectGPUs(ctx context.Context) (allocator.Resources, error) {
	path, err := exec.LookPath("nvidia-smi")
	if errors.Is(err, exec.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--query-gpu=index,name", "--format=csv,noheader").Output()
	if err != nil {
		return nil, fmt.Errorf("detecting GPUs with nvidia-smi: %w (give them with --gpus, or --gpus none)", err)
	}
	return parseNvidiaSMI(string(out))
}

// parseNvidiaSMI reads nvidia-smi's "index, name" lines: "0, Tesla T4"
// becomes gpus[Tesla-T4:0]:1 (a model name keeps letters, digits, '_',
// '-' and '.'; anything else becomes '-').
func parseNvidiaSMI(out string) (allocator.Resources, error) {
	var list []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		idx, name, ok := strings.Cut(line, ",")
		if !ok {
			return nil, fmt.Errorf("nvidia-smi: line %q; want index, name", line)
		}
		model := strings.Map(func(c rune) rune {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' {
				return c
			}
			return '-'
		}, strings.TrimSpace(name))
		if model == "" || !(model[0] >= 'a' && model[0] <= 'z' || model[0] >= 'A' && model[0] <= 'Z') {
			model = "GPU-" + model
		}
		list = append(list, model+":"+strings.TrimSpace(idx))
	}
	return GPUs(strings.Join(list, ","))
}
