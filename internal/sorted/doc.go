// Package sorted lists a map's keys in order, for code that must not
// depend on map iteration order.
package sorted
