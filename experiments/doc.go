// Package experiments will compose traces, the simulator and the runtime
// into declarative studies: sweeps over policies, parameters and seeds run
// in parallel, aggregated with confidence intervals and plotted.
//
// It may import every other apron package; none may import it but the
// command.
//
// Status: not built yet (issue "Experiments").
package experiments
