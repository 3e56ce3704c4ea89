//go:build !unix

package httpwire

// peekFD cannot look without reading here; the retry on a fresh
// connection covers a server that closed an idle one.
func peekFD(uintptr) peekResult { return peekEmpty }
