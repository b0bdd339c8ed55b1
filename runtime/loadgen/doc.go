// Package loadgen loads a live master the way a large cluster would, from
// one process: simulated agents that speak the agent protocol (they
// register, take LAUNCH events and report their tasks running, but run
// nothing), and frameworks that speak the scheduler API and decline or
// fill what they are offered. The master's benchmarks use it; so can a
// researcher who wants to see a policy at 50,000 agents.
package loadgen
