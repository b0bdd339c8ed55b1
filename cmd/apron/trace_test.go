package main

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apronlab/apron/traces/samples"
)

// traceSamples are the samples shipped in traces/samples (named without
// their compression suffix) and what apron trace info must say of them:
// the counts and sums their READMEs give (or that awk gives on the files).
var traceSamples = []traceSample{
	// SWF: jobs are the data lines less those of no run time or no
	// processors; tasks are processors, summed with awk.
	{"swf/KTH-SP2-1996-2.1-cln.swf", []string{"format   swf", "lines    28476 read, 0 skipped", "header   MaxProcs: 100", "jobs     28467", "tasks    218025 (0 censored)"}},
	{"swf/NASA-iPSC-1993-3.1-cln.swf.gz", []string{"format   swf", "lines    18239 read, 0 skipped", "jobs     18066", "tasks    303638 (0 censored)"}},
	{"swf/LLNL-Atlas-2006-2.1-cln.swf", []string{"format   swf", "lines    43778 read, 0 skipped", "header   MaxProcs: 9216", "jobs     36600", "tasks    16455288 (0 censored)"}},
	// openb: 8,152 pods, one job each; 1,523 nodes with 6,212 GPUs, of
	// which 1,213 hold GPUs.
	{"alibaba-gpu-v2023/openb_pod_list_default.csv", []string{"format   openb", "lines    8152 read, 0 skipped", "jobs     8152", "tasks    8152"}},
	{"alibaba-gpu-v2023/openb_node_list_all_node.csv", []string{"format   openb", "machines 1523 ", "capacity 125514 CPUs", "6212 GPUs"}},
	{"alibaba-gpu-v2023/openb_node_list_gpu_node.csv", []string{"format   openb", "machines 1213 ", "6212 GPUs"}},
	// Alibaba 2017: 80,553 task rows of 12,951 jobs and 11,909,321
	// instances; 1,313 machines of 64 CPUs, 39 soft errors.
	{"alibaba-v2017/batch_task.csv", []string{"format   alibaba2017", "lines    80553 read, 0 skipped", "jobs     12951", "tasks    11909321 (1299579 censored)"}},
	{"alibaba-v2017/server_event.csv", []string{"format   alibaba2017", "machines 1313 (1352 events: 1313 added, 0 removed, 39 updated", "capacity 84032 CPUs"}},
	// Alibaba 2018: 17,592 rows of 4,034 machine ids, of 96 CPUs; one
	// (m_2739) is only ever IMPORT_INSTALLING, never in service.
	{"alibaba-v2018/machine_meta.csv", []string{"format   alibaba2018", "lines    17592 read, 0 skipped", "machines 4033 ", "capacity 387168 CPUs"}},
	// PAI 2020: 1,897 machines, 6,742 GPUs, as published and in its
	// original tar.gz.
	{"alibaba-gpu-v2020/pai_machine_spec.csv", []string{"format   pai2020", "machines 1897 ", "6742 GPUs"}},
	{"alibaba-gpu-v2020/pai_machine_spec.tar.gz", []string{"format   pai2020", "lines    1897 read, 0 skipped", "machines 1897 ", "6742 GPUs"}},
	// Philly: 321 machines of 2 GPUs and 231 of 8.
	{"philly/cluster_machine_list", []string{"format   philly", "machines 552 ", "2490 GPUs"}},
}

type traceSample struct {
	file string
	want []string
}

// apron trace info reads every shipped sample through its $TRACES/ name.
func TestTraceInfoOnEverySample(t *testing.T) {
	t.Setenv(samples.Env, "")
	for _, c := range traceSamples {
		t.Run(c.file, func(t *testing.T) {
			out, err := runApron(t, "trace", "info", samples.Prefix+c.file)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("trace info lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// Every data file shipped is covered above: a new sample needs its
// expected summary.
func TestTraceInfoCoversEverySample(t *testing.T) {
	sums, err := samples.Sums()
	if err != nil {
		t.Fatal(err)
	}
	for name := range sums {
		switch path.Ext(name) {
		case ".md", ".header": // documentation; column headers of tables not shipped
			continue
		}
		plain := strings.TrimSuffix(name, ".zst")
		if !slices.ContainsFunc(traceSamples, func(c traceSample) bool { return c.file == plain }) {
			t.Errorf("sample %s has no expected trace info summary", name)
		}
	}
}

// convert and slice read $TRACES/ paths too; an unknown one is an error
// saying where it was looked for.
func TestTraceCommandsResolveTraces(t *testing.T) {
	t.Setenv(samples.Env, "")
	out := filepath.Join(t.TempDir(), "nasa.csv")
	if _, err := runApron(t, "trace", "slice", "$TRACES/swf/NASA-iPSC-1993-3.1-cln.swf", "--to", "24h", "--out", out); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(out); err != nil || strings.Count(string(data), "\n") < 10 {
		t.Fatalf("slice wrote %d bytes, %v; want the jobs of the first day", len(data), err)
	}
	_, err := runApron(t, "trace", "convert", "$TRACES/swf/none.swf")
	if err == nil || !strings.Contains(err.Error(), "$TRACES/swf/none.swf") || !strings.Contains(err.Error(), samples.Env) {
		t.Fatalf("unknown sample: %v; want an error naming it and %s", err, samples.Env)
	}
}

func TestTraceFetchList(t *testing.T) {
	out, err := runApron(t, "trace", "fetch", "--list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kth-sp2 ", "google-2011 ", "google-2019-h ", "alibaba-2018 ", "alibaba-pai-2020 ", "alibaba-openb-2023 ",
		"philly ", "(1055988361 bytes)", "batch_task (about 125MiB)", "checked: none: the archive publishes no checksum or size"} {
		if !strings.Contains(out, want) {
			t.Errorf("--list lacks %q:\n%s", want, out)
		}
	}
	if _, err := runApron(t, "trace", "fetch", "nosuch"); err == nil || !strings.Contains(err.Error(), "alibaba-2018") {
		t.Errorf("unknown trace: %v; want an error listing the traces", err)
	}
	if _, err := runApron(t, "trace", "fetch"); err == nil || !strings.Contains(err.Error(), "--list") {
		t.Errorf("no trace: %v; want an error pointing to --list", err)
	}
	if _, err := runApron(t, "trace", "fetch", "alibaba-2018", "--table", "nosuch", "--dir", t.TempDir()); err == nil || !strings.Contains(err.Error(), "batch_instance") {
		t.Errorf("unknown table: %v; want an error listing the tables", err)
	}
}
