package testutil

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// FakeRouter is a scripted Cisco-like command line: user and enable
// modes, a pager, configuration modes, and output with a line that looks
// like a prompt.
func FakeRouter(ctx context.Context, ch io.ReadWriter, _, _ int) {
	w := func(s string) { io.WriteString(ch, s) }
	mode, paging := ">", true
	prompt := func() { w("r1" + mode) }
	w("\r\nUser Access Verification\r\n\r\n")
	prompt()
	r := bufio.NewReader(ch)
	readLine := func(echo bool) (string, bool) {
		var b strings.Builder
		for {
			c, err := r.ReadByte()
			if err != nil {
				return "", false
			}
			if c == '\r' || c == '\n' {
				if echo {
					w("\r\n")
				}
				return b.String(), true
			}
			b.WriteByte(c)
			if echo {
				w(string(c))
			}
		}
	}
	more := func(lines []string) {
		for i, l := range lines {
			if paging && i > 0 && i%10 == 0 {
				w(" --More-- ")
				if c, err := r.ReadByte(); err != nil || c != ' ' {
					return
				}
				w("\b\b\b\b\b\b\b\b\b\b          \b\b\b\b\b\b\b\b\b\b")
			}
			w(l + "\r\n")
		}
	}
	for {
		line, ok := readLine(true)
		if !ok {
			return
		}
		switch cmd := strings.TrimSpace(line); {
		case cmd == "":
		case cmd == "terminal length 0":
			paging = false
		case cmd == "show version":
			var lines []string
			for i := 1; i <= 30; i++ {
				lines = append(lines, fmt.Sprintf("version line %d", i))
			}
			more(lines)
		case cmd == "show tricky":
			w("first\r\nr1#")
			time.Sleep(10 * time.Millisecond) // the newline comes late
			w("\r\nr1(config)# is only text\r\nend of tricky\r\n")
		case cmd == "enable":
			w("Password: ")
			secret, ok := readLine(false)
			if !ok {
				return
			}
			w("\r\n")
			if secret == "cisco" {
				mode = "#"
			} else {
				w("% Access denied\r\n")
			}
		case cmd == "configure terminal" && mode != ">":
			w("Enter configuration commands, one per line.  End with CNTL/Z.\r\n")
			mode = "(config)#"
		case strings.HasPrefix(cmd, "interface ") && strings.HasPrefix(mode, "(config"):
			mode = "(config-if)#"
		case cmd == "end" && mode != ">":
			mode = "#"
		case cmd == "exit":
			return
		default:
			w("                ^\r\n% Invalid input detected at '^' marker.\r\n\r\n")
		}
		prompt()
	}
}
