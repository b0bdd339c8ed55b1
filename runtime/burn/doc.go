// Package burn uses a given amount of CPU and memory for a while: what a
// task replayed on the live cluster runs in place of the job it stands for
// (apron burn).
package burn
