//go:build !linux

package udpbatch

const msgTrunc = 0 // truncation is not reported here
