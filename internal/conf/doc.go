// Package conf reads apron's configuration files (simulation configs,
// study files, policy files, settings) as YAML trees and decodes them into
// Go structs strictly, so that every mistake is an *Error that says where
// it is (file, line, the key path as the user wrote it: cluster[0].count),
// the value, and what is allowed, in the user's words, never in Go's type
// names.
//
// It imports no other apron package.
package conf
