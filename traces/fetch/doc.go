// Package fetch downloads full public cluster traces from where their
// publishers serve them: the Parallel Workloads Archive's SWF logs, Google's
// 2011 and 2019 traces, Alibaba's 2017, 2018, PAI 2020 and openb 2023
// traces and Microsoft's Philly trace (Catalog). A download goes to a
// .part file that a later run resumes with an HTTP Range request (from
// zero when the server does not support ranges), is checked against the
// sha256 or size its publisher publishes where one is published (the MD5
// that Google Cloud Storage sends otherwise) and only then takes its name:
// a file that fails its check is deleted, never left as if good. Transfers
// that break off are retried; a cancelled one keeps its partial file.
//
// It imports nothing of apron's.
package fetch
