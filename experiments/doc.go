// Package experiments composes traces and the simulator into declarative
// studies: a study file names a simulation, the policies to compare, a
// grid of config keys to sweep and the seeds (Load); its runs execute in
// parallel and resume after an interruption (Execute); the results are
// aggregated over seeds with 95% confidence intervals and drawn with
// gonum/plot (Finish); shards of a study merge into the same results
// (Merge, EmitSlurm). The ready studies are the YAML files beside this
// file, built in. docs/experiments.md documents study files.
//
// It may import every other apron package; none may import it but the
// command.
package experiments
