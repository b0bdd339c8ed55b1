// Package playground is apron's allocation playground: a small, exact tool
// for seeing what a policy does. A scenario (YAML) lists agents, roles,
// frameworks with the resources of one task and how many tasks they want,
// reservations and static partitions; Run places tasks by progressive
// filling with the allocator package's policy code and reports, per
// framework, tasks placed, resources held and dominant share, and the order
// of the picks.
//
// It owns the scenario format and its errors (file, line, key, what is
// allowed). It imports the allocator and nothing else of apron's; the
// simulator, runtime and command must not be imported here.
package playground
