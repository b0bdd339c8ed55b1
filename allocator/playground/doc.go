// Package playground is apron's allocation playground: a small, exact tool
// for seeing what a policy does. A scenario (YAML) lists agents, roles,
// frameworks with the resources of one task and how many tasks they want,
// reservations, static partitions and timed events (a task or a framework
// ends, an agent joins or leaves, a weight changes); Run places tasks by
// progressive filling with the allocator package's policy code, carries out
// the events time by time and fills again after each, and reports, per
// framework, the tasks running at the end, resources held and dominant
// share, the order of the picks and what each time's events did. The same
// scenario and policy give the same output, byte for byte. The format is in
// docs/playground.md.
//
// It owns the scenario format and its errors (file, line, key, what is
// allowed; decoded strictly by internal/conf). It imports the allocator and
// nothing else of apron's but internal packages; the simulator, runtime and
// command must not be imported here.
package playground
