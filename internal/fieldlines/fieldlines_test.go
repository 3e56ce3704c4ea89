package fieldlines

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestEach(t *testing.T) {
	var got []string
	err := Each(strings.NewReader("# head\n\na b  c # tail\n   \n#only\nd\n"), "f", func(n int, f []string) error {
		got = append(got, fmt.Sprint(n, f))
		return nil
	})
	if err != nil || strings.Join(got, ";") != "3 [a b c];6 [d]" {
		t.Errorf("got %q, %v", got, err)
	}
	stop := errors.New("stop")
	calls := 0
	err = Each(strings.NewReader("x\ny\n"), "f", func(int, []string) error { calls++; return stop })
	if !errors.Is(err, stop) || err.Error() != "f:1: stop" || calls != 1 {
		t.Errorf("err %v after %d calls", err, calls)
	}
}
