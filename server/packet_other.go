//go:build !linux

package server

const msgTrunc = 0
