package remote_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"github.com/netkit-dev/netkit/remote"
	"golang.org/x/crypto/ssh"
)

// Run a command on a host and get its output and exit status. The host
// here is a remote.Server on loopback, with a key made for the example;
// against a real host, Options{} reads ~/.ssh as ssh does.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	signer, pemKey, _ := remote.NewKey()
	os.WriteFile(filepath.Join(dir, "id"), pemKey, 0o600)

	srv := &remote.Server{AuthorizedKeys: []ssh.PublicKey{signer.PublicKey()},
		Exec: func(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
			fmt.Fprintf(stdout, "you said %q\n", cmd)
			return 3
		}}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go srv.Serve(sctx, ln)
	line, _ := srv.KnownHostsLine(ln.Addr().String())
	os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(line+"\n"), 0o600)

	c, err := remote.Dial(ctx, "admin@"+ln.Addr().String(), remote.Options{
		ConfigFile: "none",
		Identities: []string{filepath.Join(dir, "id")},
		KnownHosts: []string{filepath.Join(dir, "known_hosts")},
		NoAgent:    true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	err = c.Run(ctx, remote.Command{Line: "uptime", Stdout: os.Stdout})
	fmt.Println(err)
	// Output:
	// you said "uptime"
	// remote: command exited with status 3
}

// Parse a device's prompts: the patterns match the last line only.
func ExamplePlatform() {
	p := remote.Platforms["cisco_ios"]
	for _, last := range []string{"r1>", "r1#", "r1(config-if)#", "% Invalid input"} {
		fmt.Println(last, p.Prompt.MatchString(last), p.Privileged.MatchString(last))
	}
	// Output:
	// r1> true false
	// r1# true true
	// r1(config-if)# true true
	// % Invalid input false false
}
