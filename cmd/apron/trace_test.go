package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sharedTraces is the folder of real trace samples beside the checkout.
const sharedTraces = "../../../shared/traces"

// traceSamples are the samples in the shared folder and what apron trace
// info must say of them: the counts and sums their READMEs give (or that
// awk gives on the files).
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

func TestTraceInfoOnEverySample(t *testing.T) {
	if _, err := os.Stat(sharedTraces); err != nil {
		t.Skipf("shared trace samples not found beside the checkout: %v", err)
	}
	for _, c := range traceSamples {
		t.Run(c.file, func(t *testing.T) {
			out, err := runApron(t, "trace", "info", filepath.Join(sharedTraces, c.file))
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

// Every data file in the shared folder is covered above: a new sample
// needs its expected summary.
func TestTraceInfoCoversEverySample(t *testing.T) {
	if _, err := os.Stat(sharedTraces); err != nil {
		t.Skipf("shared trace samples not found beside the checkout: %v", err)
	}
	covered := map[string]bool{}
	err := filepath.WalkDir(sharedTraces, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(sharedTraces, p)
		switch filepath.Ext(p) {
		case ".md", ".header": // documentation; column headers of tables not in the folder
			return nil
		}
		covered[rel] = slices.ContainsFunc(traceSamples, func(c traceSample) bool { return c.file == filepath.ToSlash(rel) })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for f, ok := range covered {
		if !ok {
			t.Errorf("sample %s has no expected trace info summary", f)
		}
	}
}
