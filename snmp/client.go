package snmp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Version is an SNMP version.
type Version int

// The versions: v1 (RFC 1157), v2c (RFC 1901, community and GETBULK),
// v3 (RFC 3414, users with authentication and privacy).
const (
	V1  Version = 1
	V2c Version = 2
	V3  Version = 3
)

// ParseVersion reads 1, 2c or 3.
func ParseVersion(s string) (Version, error) {
	switch strings.ToLower(strings.TrimPrefix(strings.ToLower(s), "v")) {
	case "1":
		return V1, nil
	case "2c", "2":
		return V2c, nil
	case "3":
		return V3, nil
	}
	return 0, &InputError{Input: s, Rule: "the SNMP version is 1, 2c or 3"}
}

func (v Version) String() string {
	switch v {
	case V1:
		return "1"
	case V2c:
		return "2c"
	case V3:
		return "3"
	}
	return strconv.Itoa(int(v))
}

func (v Version) gosnmp() gosnmp.SnmpVersion {
	switch v {
	case V1:
		return gosnmp.Version1
	case V3:
		return gosnmp.Version3
	}
	return gosnmp.Version2c
}

// User is an SNMPv3 user (RFC 3414): a name, and for authentication and
// privacy a protocol and a passphrase each. An empty Auth means
// noAuthNoPriv; an empty Priv, authNoPriv.
type User struct {
	Name     string
	Auth     string // MD5, SHA (SHA-1), SHA-224, SHA-256, SHA-384, SHA-512
	AuthPass string
	Priv     string // DES, AES (AES-128), AES-192, AES-256
	PrivPass string
	// EngineID is the engine ID, in hex, that v3 traps are sent from
	// (the receiver must know it, as snmptrapd's createUser -e does); a
	// random one of this process's if empty.
	EngineID string
}

var authProtocols = map[string]gosnmp.SnmpV3AuthProtocol{
	"MD5": gosnmp.MD5, "SHA": gosnmp.SHA, "SHA1": gosnmp.SHA, "SHA-1": gosnmp.SHA,
	"SHA224": gosnmp.SHA224, "SHA-224": gosnmp.SHA224, "SHA256": gosnmp.SHA256, "SHA-256": gosnmp.SHA256,
	"SHA384": gosnmp.SHA384, "SHA-384": gosnmp.SHA384, "SHA512": gosnmp.SHA512, "SHA-512": gosnmp.SHA512,
}

var privProtocols = map[string]gosnmp.SnmpV3PrivProtocol{
	"DES": gosnmp.DES, "AES": gosnmp.AES, "AES128": gosnmp.AES, "AES-128": gosnmp.AES,
	"AES192": gosnmp.AES192, "AES-192": gosnmp.AES192, "AES256": gosnmp.AES256, "AES-256": gosnmp.AES256,
	"AES192C": gosnmp.AES192C, "AES256C": gosnmp.AES256C,
}

// security checks u and returns gosnmp's form of it.
func (u *User) security() (gosnmp.SnmpV3MsgFlags, *gosnmp.UsmSecurityParameters, error) {
	if u == nil || u.Name == "" {
		return 0, nil, &InputError{Input: "", Rule: "SNMPv3 needs a user name"}
	}
	sp := &gosnmp.UsmSecurityParameters{UserName: u.Name, AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}
	flags := gosnmp.NoAuthNoPriv
	if u.Auth != "" {
		p, ok := authProtocols[strings.ToUpper(u.Auth)]
		if !ok {
			return 0, nil, &InputError{Input: u.Auth, Rule: "the authentication protocol is MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512"}
		}
		if len(u.AuthPass) < 8 {
			return 0, nil, &InputError{Input: "(the authentication passphrase)", Rule: "an SNMPv3 passphrase has at least 8 characters (RFC 3414)"}
		}
		sp.AuthenticationProtocol, sp.AuthenticationPassphrase = p, u.AuthPass
		flags = gosnmp.AuthNoPriv
	}
	if u.Priv != "" {
		if u.Auth == "" {
			return 0, nil, &InputError{Input: u.Priv, Rule: "privacy needs authentication too (authPriv)"}
		}
		p, ok := privProtocols[strings.ToUpper(u.Priv)]
		if !ok {
			return 0, nil, &InputError{Input: u.Priv, Rule: "the privacy protocol is DES, AES, AES-192 or AES-256"}
		}
		if len(u.PrivPass) < 8 {
			return 0, nil, &InputError{Input: "(the privacy passphrase)", Rule: "an SNMPv3 passphrase has at least 8 characters (RFC 3414)"}
		}
		sp.PrivacyProtocol, sp.PrivacyPassphrase = p, u.PrivPass
		flags = gosnmp.AuthPriv
	}
	return flags, sp, nil
}

// Config says how to reach an agent.
type Config struct {
	Version   Version // V2c if zero
	Community string  // v1 and v2c; "public" if empty
	User      *User   // v3
	// Context is the SNMPv3 context name, usually empty.
	Context string
	// Port is the agent's port when the address gives none: 161 if zero
	// (162 is the one for notifications).
	Port uint16
	// Timeout is how long one request waits for its answer (1 s if zero);
	// Retries is how many times it is sent again (none if zero).
	Timeout time.Duration
	Retries int
}

// Client asks one agent. Its methods may be called from several
// goroutines; requests go one at a time.
type Client struct {
	agent string
	cfg   Config
	mu    sync.Mutex
	g     *gosnmp.GoSNMP
}

// Dial makes a client of the agent at addr (host:port; port 161 if
// left out). UDP has no handshake: a wrong address or community shows as
// a timeout on the first request.
func Dial(ctx context.Context, addr string, cfg Config) (*Client, error) {
	port := cfg.Port
	if port == 0 {
		port = 161
	}
	hp := strings.TrimPrefix(addr, "udp://")
	host, ps, err := net.SplitHostPort(hp)
	if err != nil {
		host, ps = strings.Trim(hp, "[]"), strconv.Itoa(int(port))
	}
	if len(cfg.Community) > 127 {
		return nil, &InputError{Input: "(the community)", Rule: "a community has at most 127 bytes"}
	}
	p, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || host == "" || strings.Contains(host, "/") {
		return nil, &InputError{Input: addr, Rule: "an agent is HOST, HOST:PORT or udp://HOST:PORT"}
	}
	if cfg.Version == 0 {
		cfg.Version = V2c
	}
	if cfg.Community == "" {
		cfg.Community = "public"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Second
	}
	g := &gosnmp.GoSNMP{
		Target: host, Port: uint16(p), Transport: "udp", Version: cfg.Version.gosnmp(),
		Community: cfg.Community, Timeout: cfg.Timeout, Retries: cfg.Retries,
		MaxOids: gosnmp.MaxOids, ContextName: cfg.Context,
	}
	if cfg.Version == V3 {
		flags, sp, err := cfg.User.security()
		if err != nil {
			return nil, err
		}
		g.SecurityModel, g.MsgFlags, g.SecurityParameters = gosnmp.UserSecurityModel, flags, sp
	}
	c := &Client{agent: net.JoinHostPort(host, ps), cfg: cfg, g: g}
	g.Context = ctx
	if err := g.Connect(); err != nil {
		return nil, c.fail("connect", nil, err)
	}
	return c, nil
}

// Agent is the address asked.
func (c *Client) Agent() string { return c.agent }

// Close releases the socket.
func (c *Client) Close() error { return c.g.Close() }

// Error is a request that failed: the agent did not answer, or answered
// with an error status (noSuchName, tooBig, notWritable, ...) about OID.
type Error struct {
	Agent  string
	Op     string // get, getnext, getbulk, set, trap, walk
	OID    OID    // the binding the status is about, if the agent said
	Status string // the SNMP error status, or "" when the request failed
	Err    error  // what failed, when Status is ""
}

func (e *Error) Error() string {
	where := e.Agent
	if e.OID != nil {
		where += " " + Name(e.OID)
	}
	if e.Status != "" {
		return fmt.Sprintf("snmp %s %s: the agent says %s", e.Op, where, e.Status)
	}
	return fmt.Sprintf("snmp %s %s: %v", e.Op, where, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Timeout says whether the agent did not answer in time.
func (e *Error) Timeout() bool {
	return e.Status == "" && e.Err != nil && strings.Contains(e.Err.Error(), "timeout")
}

func (c *Client) fail(op string, o OID, err error) error {
	if ie, ok := errors.AsType[*InputError](err); ok {
		return ie
	}
	return &Error{Agent: c.agent, Op: op, OID: o, Err: err}
}

// statusName is an error status as RFC 3416 names it.
func statusName(s gosnmp.SNMPError) string {
	n := s.String()
	if n == "" || strings.HasPrefix(n, "SNMPError(") {
		return "error-status " + strconv.Itoa(int(s))
	}
	return strings.ToLower(n[:1]) + n[1:]
}

// do sends one request with the lock held and converts the answer.
func (c *Client) do(ctx context.Context, op string, oids []OID, send func(g *gosnmp.GoSNMP, names []string) (*gosnmp.SnmpPacket, error)) ([]Var, error) {
	names := make([]string, len(oids))
	for i, o := range oids {
		if len(o) < 2 {
			return nil, &InputError{Input: o.String(), Rule: "a request names OIDs of two parts at least (BER writes the first two as one); walk takes .1"}
		}
		names[i] = o.String()
	}
	c.mu.Lock()
	c.g.Context = ctx
	pkt, err := send(c.g, names)
	c.mu.Unlock()
	var first OID
	if len(oids) > 0 {
		first = oids[0]
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.fail(op, first, err)
	}
	if pkt.Error != gosnmp.NoError {
		e := &Error{Agent: c.agent, Op: op, Status: statusName(pkt.Error)}
		if i := int(pkt.ErrorIndex) - 1; i >= 0 && i < len(oids) {
			e.OID = oids[i]
		}
		return nil, e
	}
	vars := make([]Var, 0, len(pkt.Variables))
	for _, p := range pkt.Variables {
		v, err := fromPDU(p)
		if err != nil {
			return nil, c.fail(op, first, err)
		}
		vars = append(vars, v)
	}
	return vars, nil
}

// Get asks for the values of oids (a GetRequest). A v2c or v3 agent
// answers an OID it does not have with a NoSuchObject or NoSuchInstance
// binding; a v1 agent with the noSuchName error.
func (c *Client) Get(ctx context.Context, oids ...OID) ([]Var, error) {
	return c.do(ctx, "get", oids, func(g *gosnmp.GoSNMP, n []string) (*gosnmp.SnmpPacket, error) { return g.Get(n) })
}

// GetNext asks for the binding after each of oids (a GetNextRequest).
func (c *Client) GetNext(ctx context.Context, oids ...OID) ([]Var, error) {
	return c.do(ctx, "getnext", oids, func(g *gosnmp.GoSNMP, n []string) (*gosnmp.SnmpPacket, error) { return g.GetNext(n) })
}

// GetBulk asks for up to maxRepetitions bindings after each of oids (a
// GetBulkRequest, v2c and v3).
func (c *Client) GetBulk(ctx context.Context, maxRepetitions int, oids ...OID) ([]Var, error) {
	if c.cfg.Version == V1 {
		return nil, &InputError{Input: "getbulk", Rule: "GETBULK is SNMP v2c and v3; v1 walks with GETNEXT"}
	}
	return c.do(ctx, "getbulk", oids, func(g *gosnmp.GoSNMP, n []string) (*gosnmp.SnmpPacket, error) {
		return g.GetBulk(n, 0, uint32(maxRepetitions))
	})
}

// Set writes values (a SetRequest) and returns the agent's answer.
func (c *Client) Set(ctx context.Context, vars ...Var) ([]Var, error) {
	oids := make([]OID, len(vars))
	pdus := make([]gosnmp.SnmpPDU, len(vars))
	for i, v := range vars {
		oids[i], pdus[i] = v.OID, v.pdu()
	}
	return c.do(ctx, "set", oids, func(g *gosnmp.GoSNMP, _ []string) (*gosnmp.SnmpPacket, error) { return g.Set(pdus) })
}

// clone dials the same agent again, on a socket of its own.
func (c *Client) clone(ctx context.Context) (*Client, error) {
	return Dial(ctx, c.agent, c.cfg)
}
