package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
)

func TestEchoBothEngines(t *testing.T) {
	for _, engine := range []string{"goroutine", "eventloop"} {
		t.Run(engine, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-engine", engine}, pw) }()
			line, _ := bufio.NewReader(pr).ReadString('\n')
			addr := strings.TrimSpace(line[strings.LastIndex(line, " ")+1:])
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, "hello, engines\n")
			c.(*net.TCPConn).CloseWrite()
			got, _ := io.ReadAll(c)
			c.Close()
			if string(got) != "hello, engines\n" {
				t.Errorf("echo %q", got)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
	if err := run(context.Background(), []string{"-engine", "fork"}, io.Discard); err == nil {
		t.Error("-engine fork was taken")
	}
}
