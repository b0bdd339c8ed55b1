package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/apronlab/apron/traces"
	"github.com/apronlab/apron/traces/samples"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

func newTrace(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{Use: "trace", Short: "Read, summarise, convert, slice and generate workload traces"}
	cmd.PersistentFlags().String("format", "", "trace format (detected from the content when empty)")
	cmd.PersistentFlags().Bool("machines", false, "read the machine table of a format that has jobs and machines")
	cmd.PersistentFlags().Bool("skip-bad", false, "skip malformed lines, counting them, instead of stopping")
	cmd.PersistentFlags().Float64("machine-cpus", 0, "CPUs of the largest machine, for normalised traces")
	cmd.PersistentFlags().Float64("machine-mem", 0, "memory (MiB) of the largest machine, for normalised traces")
	cmd.AddCommand(newTraceInfo(v), newTraceConvert(v), newTraceSlice(v), newTraceGen(v), newTraceFetch(v))
	return cmd
}

// tracePathsHelp says how the trace commands read FILE arguments.
const tracePathsHelp = `A FILE beginning $TRACES/ (quoted, so that the shell leaves it) is one of the
trace samples shipped with apron, or a file under $APRON_TRACES when that is
set; a name without its .zst or .gz suffix finds the compressed file.`

func traceOptions(v *viper.Viper) traces.Options {
	return traces.Options{SkipBad: v.GetBool("skip-bad"), MachineCPUs: v.GetFloat64("machine-cpus"), MachineMemMiB: v.GetFloat64("machine-mem")}
}

func newTraceInfo(v *viper.Viper) *cobra.Command {
	return &cobra.Command{
		Use:   "info FILE...",
		Short: "Summarise a trace table (its part files read as one)",
		Long: `info reads a trace table to its end and prints its format, units, jobs,
tasks, time span, demand and percentiles of task durations and sizes, or, for
a machine table, the machines and their capacity. Formats: ` + formatList() + `.

` + tracePathsHelp,
		Example: `  apron trace info '$TRACES/swf/KTH-SP2-1996-2.1-cln.swf'`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			args, err := samples.ResolveAll(args)
			if err != nil {
				return err
			}
			t, err := traces.OpenTable(v.GetString("format"), v.GetBool("machines"), traceOptions(v), args...)
			if err != nil {
				return err
			}
			defer t.Close()
			bar := newProgress(cmd.ErrOrStderr(), "reading", fileSizes(args))
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "format   %s (%s)\n", t.Format.Name, t.Format.Describe)
			if t.Jobs != nil {
				s, err := traces.Summarize(t.Jobs, func(jobs int64) {
					bar.update(t.Input.BytesRead(), fmt.Sprintf("%d jobs", jobs))
				})
				bar.finish()
				if err != nil {
					return err
				}
				printJobSummary(out, s, t.Stats())
				return nil
			}
			s, err := traces.SummarizeMachines(t.Machines)
			bar.finish()
			if err != nil {
				return err
			}
			printMachineSummary(out, s, t.Stats())
			return nil
		},
	}
}

func formatList() string {
	var names []string
	for _, f := range traces.Formats() {
		names = append(names, f.Name)
	}
	return strings.Join(names, ", ")
}

func fileSizes(paths []string) int64 {
	var n int64
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

func printStats(w io.Writer, st traces.Stats) {
	if st.Units != "" {
		fmt.Fprintf(w, "units    %s\n", st.Units)
	}
	fmt.Fprintf(w, "lines    %d read, %d skipped as malformed\n", st.Lines, st.Skipped)
	if st.FirstBad != nil {
		fmt.Fprintf(w, "         first skipped: %v\n", st.FirstBad)
	}
	for _, k := range slices.Sorted(maps.Keys(st.Header)) {
		fmt.Fprintf(w, "header   %s: %s\n", k, strings.ReplaceAll(st.Header[k], "\n", " | "))
	}
}

func printJobSummary(w io.Writer, s traces.Summary, st traces.Stats) {
	printStats(w, st)
	fmt.Fprintf(w, "jobs     %d\ntasks    %d (%d censored)\n", s.Jobs, s.Tasks, s.Censored)
	fmt.Fprintf(w, "span     %v to %v (%v)\n", s.First, s.Last, s.Last-s.First)
	fmt.Fprintf(w, "demand   %.4g CPU-hours, %.4g GPU-hours\n", s.CPUSeconds/3600, s.GPUSeconds/3600)
	fmt.Fprintf(w, "%-14s %10s %10s %10s %10s %10s %10s\n", "", "min", "p50", "p90", "p99", "max", "mean")
	for _, row := range []struct {
		name string
		p    traces.Percentiles
	}{{"duration (s)", s.Duration}, {"cpus", s.CPUs}, {"mem (MiB)", s.MemMiB}, {"gpus", s.GPUs}, {"tasks/job", s.TasksPerJob}} {
		p := row.p
		fmt.Fprintf(w, "%-14s %10.4g %10.4g %10.4g %10.4g %10.4g %10.4g\n", row.name, p.Min, p.P50, p.P90, p.P99, p.Max, p.Mean)
	}
	if n := len(s.HourlyCPUDemand); n > 0 {
		peak := 0.0
		for _, d := range s.HourlyCPUDemand {
			peak = max(peak, d)
		}
		fmt.Fprintf(w, "demand over time: %d hours, peak %.4g CPU-hours submitted in one hour\n", n, peak/3600)
	}
}

func printMachineSummary(w io.Writer, s traces.MachineSummary, st traces.Stats) {
	printStats(w, st)
	fmt.Fprintf(w, "machines %d (%d events: %d added, %d removed, %d updated; last at %v)\n", s.Machines, s.Events, s.Added, s.Removed, s.Updated, s.Last)
	c := s.Capacity
	fmt.Fprintf(w, "capacity %.6g CPUs, %.6g MiB memory, %.6g MiB disk, %.6g GPUs (machines present at the end)\n", c.CPUs, c.MemMiB, c.DiskMiB, c.GPUs)
}

func newTraceGen(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gen {facebook-hadoop|google-scale|SPEC.json}",
		Short: "Generate a synthetic workload in apron's native format",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := generator(args[0], v.GetUint64("seed"))
			if err != nil {
				return err
			}
			if s := v.GetFloat64("scale"); s > 0 && s < 1 {
				g.Jobs = int(float64(g.JobCount()) * s)
			}
			src, err := g.Source()
			if err != nil {
				return err
			}
			return writeNative(cmd, src, v.GetString("out"))
		},
	}
	cmd.Flags().Uint64("seed", 1, "random seed")
	cmd.Flags().Float64("scale", 1, "fraction of the generator's jobs")
	cmd.Flags().String("out", "-", "output file (- for standard output)")
	return cmd
}

func generator(name string, seed uint64) (traces.Generator, error) {
	switch name {
	case "facebook-hadoop":
		return traces.FacebookHadoop(seed), nil
	case "google-scale":
		return traces.GoogleScale(seed), nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return traces.Generator{}, fmt.Errorf("%s: not a built-in generator (facebook-hadoop, google-scale) nor a readable spec: %w", name, err)
	}
	var g traces.Generator
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return g, fmt.Errorf("%s: %w", name, err)
	}
	g.Seed = seed
	return g, nil
}

// writeNative writes a job stream in apron's native CSV to out ("-" is
// standard output), with progress on a terminal.
func writeNative(cmd *cobra.Command, src traces.Source, out string) error {
	var w io.Writer = cmd.OutOrStdout()
	if out != "-" && out != "" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	nw := traces.NewNativeWriter(w)
	bar := newProgress(cmd.ErrOrStderr(), "writing", 0)
	n := int64(0)
	for {
		j, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			bar.finish()
			return err
		}
		if err := nw.Write(j); err != nil {
			return err
		}
		if n++; n%10000 == 0 {
			bar.update(n, fmt.Sprintf("%d jobs", n))
		}
	}
	bar.finish()
	return nw.Flush()
}

func newTraceConvert(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "convert FILE...",
		Short: "Convert a job trace (its part files read as one) to apron's native CSV",
		Long:  "convert reads a job table and writes it in apron's native CSV.\n\n" + tracePathsHelp,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return rewrite(cmd, v, args, func(src traces.Source) (traces.Source, error) { return src, nil })
		},
	}
	cmd.Flags().String("out", "-", "output file (- for standard output)")
	return cmd
}

func newTraceSlice(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "slice FILE...",
		Short: "Keep a time window or a sample of a job trace, optionally rescaling time; writes native CSV",
		Long:  "slice keeps the jobs of a job table in a time window, or a sample of them, and writes native CSV.\n\n" + tracePathsHelp,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s := traces.Slice{From: v.GetDuration("from"), To: v.GetDuration("to"), Fraction: v.GetFloat64("sample"),
				Seed: v.GetUint64("seed"), TimeScale: v.GetFloat64("time-scale")}
			return rewrite(cmd, v, args, s.Jobs)
		},
	}
	cmd.Flags().Duration("from", 0, "keep jobs submitted at or after this time since the trace start")
	cmd.Flags().Duration("to", 0, "keep jobs submitted before this time (0: no end)")
	cmd.Flags().Float64("sample", 1, "fraction of the jobs to keep")
	cmd.Flags().Uint64("seed", 1, "seed of the sample")
	cmd.Flags().Float64("time-scale", 1, "multiply submit times (0.5: the same jobs twice as fast)")
	cmd.Flags().String("out", "-", "output file (- for standard output)")
	return cmd
}

// openJobs opens a job table ($TRACES/ paths resolved); a machine table is
// an error.
func openJobs(v *viper.Viper, paths []string) (*traces.Table, error) {
	paths, err := samples.ResolveAll(paths)
	if err != nil {
		return nil, err
	}
	t, err := traces.OpenTable(v.GetString("format"), false, traceOptions(v), paths...)
	if err != nil {
		return nil, err
	}
	if t.Jobs == nil {
		t.Close()
		return nil, fmt.Errorf("%s holds machines, not jobs; this command reads job tables", paths[0])
	}
	return t, nil
}

// rewrite reads a job table, reshapes its stream and writes native CSV.
func rewrite(cmd *cobra.Command, v *viper.Viper, paths []string, reshape func(traces.Source) (traces.Source, error)) error {
	t, err := openJobs(v, paths)
	if err != nil {
		return err
	}
	defer t.Close()
	src, err := reshape(t.Jobs)
	if err != nil {
		return err
	}
	return writeNative(cmd, src, v.GetString("out"))
}
