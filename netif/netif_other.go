//go:build !linux

package netif

func operState(string) string { return "" }
