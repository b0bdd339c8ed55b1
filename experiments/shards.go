package experiments

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"text/tabwriter"
)

// PrintMatrix writes the study's expanded runs, one line each.
func PrintMatrix(w io.Writer, s *Study) error {
	runs, err := s.Runs()
	if err != nil {
		return err
	}
	backends := ""
	if len(s.Backends) > 1 || s.Backends[0] != "sim" {
		backends = fmt.Sprintf(" x %d backends (%s)", len(s.Backends), strings.Join(s.Backends, ", "))
	}
	fmt.Fprintf(w, "study %s: %d runs (%d policies x %d sweep points x %d seeds%s), baseline %s\n",
		s.Name, len(runs), len(s.Policies), len(s.points()), len(s.Seeds), backends, s.Baseline)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\trun\tpolicy\tpoint\tseed\tconfig")
	for i, r := range runs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", i, r.ID, r.Policy, orDash(pointLabel(r.Point)), r.Seed, r.Hash[:12])
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Merge gathers the finished runs of a study's shards (each a results
// folder of the same study, as apron run --shard writes) into dest, then
// writes the aggregate and figures: the same files one unsharded run
// writes.
func Merge(dest string, shards ...string) error {
	var rec studyRecord
	for i, dir := range shards {
		r, err := readStudy(dir)
		if err != nil {
			return err
		}
		if i == 0 {
			rec = r
		} else if !reflect.DeepEqual(r, rec) {
			return fmt.Errorf("%s: not the same study as %s (its study.json differs); want shards of one study", dir, shards[0])
		}
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	if err := copyFile(filepath.Join(shards[0], "study.json"), filepath.Join(dest, "study.json")); err != nil {
		return err
	}
	var missing []string
	for _, r := range rec.Runs {
		if done(dest, r) {
			continue
		}
		found := false
		for _, dir := range shards {
			if done(dir, r) {
				if err := copyDir(filepath.Join(dir, filepath.FromSlash(r.ID)), filepath.Join(dest, filepath.FromSlash(r.ID))); err != nil {
					return err
				}
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, r.ID)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d runs finished in no shard, such as %s; run their shards again", len(missing), strings.Join(missing[:min(3, len(missing))], ", "))
	}
	return Finish(dest)
}

func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	if filepath.Clean(src) == filepath.Clean(dst) {
		return nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// EmitSlurm writes a Slurm script that runs the study as a job array of
// shards, one shard per array task, each into out/shard-<i>, and a final
// job that merges them into out/<name>. Submitted with sbatch it is the
// array; run with bash it submits the array and the merge after it.
func EmitSlurm(path, study string, sets []string, out string, shards int) error {
	s, err := Load(study, sets)
	if err != nil {
		return err
	}
	if shards < 1 {
		return fmt.Errorf("--shards %d: want 1 or more", shards)
	}
	if out == "" {
		out = "results"
	}
	var set strings.Builder
	for _, kv := range sets {
		fmt.Fprintf(&set, " --set %q", kv)
	}
	var shardDirs []string
	for i := range shards {
		shardDirs = append(shardDirs, filepath.Join(out, fmt.Sprintf("shard-%d", i), s.Name))
	}
	script := fmt.Sprintf(`#!/bin/bash
# apron study %[1]s in %[2]d shards: one per array task, then a merge.
#   bash %[3]s      submits the array and the merge after it
#   sbatch %[3]s    submits the array alone
#SBATCH --job-name=apron-%[1]s
#SBATCH --array=0-%[4]d
#SBATCH --cpus-per-task=2
#SBATCH --output=apron-%[1]s-%%A_%%a.out
set -euo pipefail
if [ -z "${SLURM_JOB_ID:-}" ]; then
  jid=$(sbatch --parsable "$0")
  sbatch --dependency=afterok:"${jid%%%%;*}" --job-name=apron-%[1]s-merge --output=apron-%[1]s-merge-%%j.out \
    --wrap "apron merge %[5]s %[6]s"
  exit 0
fi
apron run %[7]q%[8]s --out %[9]s/shard-"$SLURM_ARRAY_TASK_ID" --shard "$SLURM_ARRAY_TASK_ID"/%[2]d --workers "${SLURM_CPUS_PER_TASK:-1}"
`, s.Name, shards, path, shards-1, filepath.Join(out, s.Name), strings.Join(shardDirs, " "), study, set.String(), out)
	return os.WriteFile(path, []byte(script), 0o755)
}
