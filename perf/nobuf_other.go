//go:build !unix

package perf

func isNoBuffer(error) bool { return false }
