package tour

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/dnsclient"
	"github.com/netkit-dev/netkit/dnsserver"
	"github.com/netkit-dev/netkit/httpwire"
	"github.com/netkit-dev/netkit/rfc"
)

// layers: one request, wrapped by every layer on its way down.
type layers struct{ noFiles }

func (layers) Name() string  { return "layers" }
func (layers) Layer() string { return "link" }
func (layers) Idea() string {
	return "each layer wraps what the one above hands it in a header of its own: application data in a TCP segment in an IP packet in a frame"
}
func (layers) Commands() []string {
	return []string{"netkit serve hello &", "netkit connect --hex 127.0.0.1:12345"}
}

func (layers) Run(ctx context.Context, w io.Writer, e *Env) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	req := fmt.Sprintf("GET / HTTP/1.1\r\nHost: %s\r\n\r\n", l.Addr())
	if _, err := io.WriteString(c, req); err != nil {
		return err
	}
	app := len(req)
	tcp := 20 + tcpOptionBytes(c)
	const ip, eth, fcs = 20, 14, 4
	say(w, "The request %q, as it would cross an Ethernet link:", strings.SplitN(req, "\r\n", 2)[0]+"...")
	box := func(depth int, label string) { say(w, "%s┌ %s", strings.Repeat("│ ", depth), label) }
	box(0, fmt.Sprintf("Ethernet frame: %d-byte header, %d-byte checksum trailer (%d bytes in all)", eth, fcs, eth+ip+tcp+app+fcs))
	box(1, fmt.Sprintf("IPv4 packet: %d-byte header, from %s to %s, protocol 6 (TCP)", ip, c.LocalAddr().(*net.TCPAddr).IP, c.RemoteAddr().(*net.TCPAddr).IP))
	box(2, fmt.Sprintf("TCP segment: %d-byte header (%d of options), ports %d -> %d", tcp, tcp-20, c.LocalAddr().(*net.TCPAddr).Port, c.RemoteAddr().(*net.TCPAddr).Port))
	box(3, fmt.Sprintf("HTTP request: %d bytes of application data", app))
	say(w, "│ │ │ └")
	say(w, "│ │ └")
	say(w, "│ └")
	say(w, "└")
	say(w, "Headers are %d of the %d bytes: %.0f%% of this small request is wrapping.", eth+ip+tcp+fcs, eth+ip+tcp+app+fcs, 100*float64(eth+ip+tcp+fcs)/float64(eth+ip+tcp+app+fcs))
	return nil
}

// dnsStep: names, zones and the hierarchy of servers.
type dnsStep struct{}

func (dnsStep) Name() string  { return "dns" }
func (dnsStep) Layer() string { return "application" }
func (dnsStep) Idea() string {
	return "DNS turns names into addresses through a hierarchy: the root refers to the TLD's servers, which refer to the zone's own"
}
func (dnsStep) Commands() []string {
	return []string{
		"netkit dns serve --listen 127.0.0.1:12345 --zone example.test=example.test.zone &",
		"netkit dns lookup www.example.test @127.0.0.1:12345",
		"netkit dns lookup www.example.test @tcp://127.0.0.1:12345 --short",
	}
}
func (dnsStep) Files() map[string]string { return map[string]string{"example.test.zone": zoneExample} }

const zoneRoot = `$TTL 3600
.            SOA ns.root. hostmaster.root. 1 3600 600 86400 60
.            NS  ns.root.
ns.root.     A   127.0.0.2
test.        NS  ns.test.
ns.test.     A   127.0.0.3
`

const zoneTest = `$ORIGIN test.
$TTL 3600
@            SOA ns hostmaster 1 3600 600 86400 60
@            NS  ns
ns           A   127.0.0.3
example      NS  ns.example
ns.example   A   127.0.0.4
`

const zoneExample = `$ORIGIN example.test.
$TTL 300
@    SOA ns hostmaster 1 3600 600 86400 60
@    NS  ns
ns   A   127.0.0.4
www  A   192.0.2.10
mail A   192.0.2.25
@    MX  10 mail
`

func (dnsStep) Run(ctx context.Context, w io.Writer, e *Env) error {
	type level struct {
		addr, origin, text string
	}
	levels := []level{{"127.0.0.2", ".", zoneRoot}, {"127.0.0.3", "test.", zoneTest}, {"127.0.0.4", "example.test.", zoneExample}}
	// Three servers on three loopback addresses and one port, as the
	// real hierarchy has them on port 53.
	var socks []dnsserver.Socket
	var port string
	for attempt := 0; attempt < 20 && len(socks) < len(levels); attempt++ {
		for _, k := range socks {
			k.Close()
		}
		socks, port = nil, "0"
		for _, lv := range levels {
			k, err := dnsserver.Listen(ctx, "udp://"+lv.addr+":"+port)
			if err != nil {
				break
			}
			socks = append(socks, k)
			_, port, _ = net.SplitHostPort(k.UDP.LocalAddr().String())
		}
	}
	if len(socks) < len(levels) {
		return fmt.Errorf("could not bind 127.0.0.2-4 on one UDP port")
	}
	runCtx, stop := context.WithCancel(context.Background())
	var running []chan error
	defer func() {
		stop()
		for _, ch := range running {
			<-ch
		}
	}()
	for i, lv := range levels {
		z, err := dnsserver.ParseZone(strings.NewReader(lv.text), lv.origin, lv.origin+"zone")
		if err != nil {
			return err
		}
		zs, err := dnsserver.NewZones(z)
		if err != nil {
			return err
		}
		srv := &dnsserver.Server{}
		srv.SetZones(zs)
		ch := make(chan error, 1)
		k := socks[i]
		go func() { ch <- srv.Run(runCtx, []dnsserver.Socket{k}, dnsserver.RunConfig{Readers: 1}) }()
		running = append(running, ch)
	}
	say(w, "Three authoritative servers, port %s: the root (.) on 127.0.0.2, test. on 127.0.0.3, example.test. on 127.0.0.4.", port)
	var p uint16
	fmt.Sscan(port, &p)
	c := &dnsclient.Client{Timeout: time.Second, Attempts: 2, NoRecurse: true}
	tr := &dnsclient.Tracer{Client: c, Roots: []netip.Addr{netip.MustParseAddr("127.0.0.2")}, Port: p,
		OnHop: func(h dnsclient.Hop) {
			switch {
			case h.Err != nil:
				say(w, "  %-14s %s: %v", h.Zone, h.Server, h.Err)
			case h.Referral != "":
				say(w, "  %-14s %s said: ask %s (%s) in %s", h.Zone, h.Server, h.Referral, strings.Join(h.NS, " "), h.RTT.Round(time.Microsecond))
			default:
				say(w, "  %-14s %s answered %s: %s", h.Zone, h.Server, h.Rcode, strings.Join(h.Answer, "; "))
			}
		}}
	say(w, "Resolving www.example.test from the root, as dig +trace does:")
	hops, err := tr.Trace(ctx, "www.example.test", 1)
	if err != nil {
		return err
	}
	if len(hops) != 3 {
		return fmt.Errorf("the resolution took %d hops, not 3", len(hops))
	}
	say(w, "A caching resolver keeps each referral for its TTL, so the next name under test. skips the root.")
	return nil
}

// httpStep: HTTP over a raw socket, and the RFC downloader.
type httpStep struct{}

func (httpStep) Name() string  { return "http" }
func (httpStep) Layer() string { return "application" }
func (httpStep) Idea() string {
	return "HTTP is text over a TCP connection: a request line and headers, a status line and headers, then the body; the RFC downloader is one such request"
}
func (httpStep) Commands() []string {
	return []string{
		"netkit listen tcp://127.0.0.1:12345 < response.http &",
		"netkit http get --wire http://127.0.0.1:12345/",
		"netkit listen tcp://127.0.0.1:12345 < rfc1149.http &",
		// --wire: netkit listen answers before it is asked, which net/http
		// takes for a broken connection; the hand-written client reads on.
		"netkit rfc 1149 --wire --mirror http://127.0.0.1:12345 --cache-dir rfc-cache",
	}
}

func (httpStep) Files() map[string]string {
	text, _ := fs.ReadFile(mirror, "mirror/rfc/rfc1149.txt")
	return map[string]string{
		"response.http": "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 25\r\nConnection: close\r\n\r\nThank you for connecting\n",
		"rfc1149.http":  fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(text), text),
	}
}

//go:embed mirror
var mirror embed.FS

func (httpStep) Run(ctx context.Context, w io.Writer, e *Env) error {
	root, _ := fs.Sub(mirror, "mirror")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: http.FileServerFS(root), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(l)
	defer hs.Close()
	base := "http://" + l.Addr().String()

	say(w, "A hand-written HTTP/1.1 client (httpwire) asks a local mirror of the RFC Editor; every byte it sends and every head it gets:")
	var wire bytes.Buffer
	c := &httpwire.Client{UserAgent: "netkit-tour", Trace: httpwire.WireTrace(&wire, 0)}
	defer c.CloseIdle()
	req, err := httpwire.NewRequest("HEAD", base+"/rfc/rfc1149.txt", nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(ctx, req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	io.Copy(w, &wire)
	say(w, "It took %s to the first byte; the body is %d bytes.", resp.Timing.FirstByte.Round(time.Microsecond), resp.ContentLength)

	say(w, "The RFC downloader fetches the text and reads the index:")
	rc := &rfc.Client{Mirror: base}
	doc, err := rc.Text(ctx, 1149)
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(string(doc.Text)), "\n")
	for _, line := range lines[:min(len(lines), 6)] {
		say(w, "  | %s", line)
	}
	ix, err := rc.Index(ctx)
	if err != nil {
		return err
	}
	if ent, ok := ix.Lookup(1149); ok {
		say(w, "RFC %d: %q, %s, %s.", ent.Number, ent.Title, ent.Date(), strings.ToLower(ent.Status))
	}
	return nil
}
