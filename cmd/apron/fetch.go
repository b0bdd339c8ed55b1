package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/apronlab/apron/traces/fetch"
	"github.com/docker/go-units"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

func newTraceFetch(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fetch NAME",
		Short: "Download a full public trace from its publisher, resumably, checked where a checksum is published",
		Long: `fetch downloads a public trace (Parallel Workloads Archive logs, Google 2011
and 2019, Alibaba 2017, 2018, PAI 2020 and openb 2023, Microsoft Philly) from
where its publisher serves it into --dir (default: NAME in the working
directory). --list shows the traces, their sizes and what is checked.

A file is downloaded to FILE.part and named FILE only once complete and
checked against the sha256 or size its publisher publishes; a file that fails
is deleted. Running the same command again skips the files already there and
resumes a partial one (from zero when the server cannot resume). Ctrl-C keeps
the partial file. To read the trace with $TRACES/ paths, set APRON_TRACES to
the folder above --dir.`,
		Example: `  apron trace fetch --list
  apron trace fetch kth-sp2
  apron trace fetch alibaba-2018 --table batch_task --dir /data/traces/alibaba-2018`,
		Args: func(cmd *cobra.Command, args []string) error {
			if list, _ := cmd.Flags().GetBool("list"); list {
				return cobra.NoArgs(cmd, args)
			}
			if len(args) != 1 {
				return fmt.Errorf("fetch takes the name of one trace (apron trace fetch --list shows them)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if v.GetBool("list") {
				printCatalog(cmd.OutOrStdout())
				return nil
			}
			t, err := fetch.Lookup(args[0])
			if err != nil {
				return err
			}
			dir := v.GetString("dir")
			if dir == "" {
				dir = t.Name
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			f := fetch.New()
			f.Verify = v.GetBool("verify")
			show := newFetchProgress(cmd.ErrOrStderr())
			f.Progress = show.event
			fmt.Fprintf(cmd.ErrOrStderr(), "fetching %s into %s: %s\nchecked: %s\n", t.Name, dir, t.Title, t.Checks)
			res, err := f.Fetch(ctx, t, dir, v.GetStringSlice("table")...)
			show.done()
			if err != nil {
				return err
			}
			printFetched(cmd.OutOrStdout(), t, dir, res)
			return nil
		},
	}
	cmd.Flags().Bool("list", false, "list the traces that can be fetched, with their sizes and what is checked")
	cmd.Flags().String("dir", "", "folder to download into (default: the trace's name)")
	cmd.Flags().StringSlice("table", nil, "fetch only these tables of the trace (default: all; --list names them)")
	cmd.Flags().Bool("verify", false, "hash the files already downloaded again, against the published sha256")
	return cmd
}

// fetchProgress shows one progress bar per file and the notes as lines.
type fetchProgress struct {
	w    io.Writer
	file string
	bar  *progress
}

func newFetchProgress(w io.Writer) *fetchProgress { return &fetchProgress{w: w} }

func (p *fetchProgress) event(e fetch.Event) {
	name := filepath.Base(e.File)
	if e.File != p.file {
		p.done()
		p.file = e.File
	}
	if e.Note != "" {
		p.done()
		fmt.Fprintf(p.w, "%s: %s\n", name, e.Note)
		return
	}
	if p.bar == nil {
		p.bar = newProgress(p.w, name, e.Total)
	}
	p.bar.update(e.Done, fmt.Sprintf("%s: %s of %s", name, units.BytesSize(float64(e.Done)), sizeOrUnknown(e.Total)))
}

func (p *fetchProgress) done() {
	if p.bar != nil {
		p.bar.finish()
		p.bar = nil
	}
}

func sizeOrUnknown(n int64) string {
	if n <= 0 {
		return "an unknown size"
	}
	return units.BytesSize(float64(n))
}

// traceSize says how big a trace is, as far as its publisher says.
func traceSize(t fetch.Trace) string {
	n, exact := t.Size()
	switch {
	case n > 0 && exact:
		return fmt.Sprintf("%s (%d bytes)", units.BytesSize(float64(n)), n)
	case n > 0:
		return "about " + units.BytesSize(float64(n))
	case t.About != "":
		return t.About
	}
	return "not published"
}

func printCatalog(w io.Writer) {
	for _, t := range fetch.Catalog() {
		fmt.Fprintf(w, "%-19s %s\n", t.Name, t.Title)
		fmt.Fprintf(w, "%-19s size: %s; checked: %s\n", "", traceSize(t), t.Checks)
		if len(t.Tables) > 1 {
			var tables []string
			for _, tb := range t.Tables {
				tables = append(tables, tb.Name+tableSize(tb))
			}
			fmt.Fprintf(w, "%-19s tables (--table): %s\n", "", strings.Join(tables, ", "))
		}
		fmt.Fprintf(w, "%-19s %s\n", "", t.Home)
	}
}

// tableSize is " (1.2 MB)" when the table's size is known, else "".
func tableSize(tb fetch.Table) string {
	n, exact := fetch.Trace{Tables: []fetch.Table{tb}}.Size()
	switch {
	case n == 0:
		return ""
	case exact:
		return " (" + units.BytesSize(float64(n)) + ")"
	}
	return " (about " + units.BytesSize(float64(n)) + ")"
}

func printFetched(w io.Writer, t fetch.Trace, dir string, res []fetch.Result) {
	var total int64
	fetched := 0
	checks := map[string]int{}
	for _, r := range res {
		total += r.Size
		checks[r.Checked]++
		if r.Fetched {
			fetched++
		}
	}
	fmt.Fprintf(w, "%s: %d files, %s, in %s (%d downloaded now, %d already there)\n", t.Name, len(res), units.BytesSize(float64(total)), dir, fetched, len(res)-fetched)
	var parts []string
	for _, c := range []string{"sha256", "size", "md5 (x-goog-hash)", "unchecked"} {
		if checks[c] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c, checks[c]))
		}
	}
	fmt.Fprintf(w, "checked: %s\ncite: %s\n", strings.Join(parts, ", "), t.Cite)
}
