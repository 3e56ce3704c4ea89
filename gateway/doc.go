// Package gateway is a user-space firewall and NAT: the tutorials'
// firewall (rules on protocol, source addresses and ports, everything
// denied that is not allowed) and port forwarding (DNAT: a public port
// sent on to a private address, the mapping remembered and the replies
// translated back), as a gateway to run in front of services, with
// nftables' semantics and better tooling.
//
// A [Config] is read from a TOML file by [Load] or [Parse], strictly:
// an unknown key or a bad value is a [ConfigError] with the file, line,
// column and a caret under the fault. It declares forwards (a protocol, a
// listen address, one or more targets, balancing, PROXY protocol v2, and
// limits per source) and rules, tried in order, the first match deciding;
// a flow no rule matches gets the default policy, deny unless the file
// says otherwise. docs/gateway.md has a complete example.
//
// [Check] finds rules that never decide (shadowed by an earlier one),
// forwards that no rule allows, overlapping listeners and a missing
// default. [Config.Explain] tries every rule against one flow and says
// why each matched or not, the verdict, and the translation.
//
// A [Gateway] runs a configuration: [New] binds every listener, Serve
// forwards flows, [Gateway.Reload] swaps in a new configuration without
// dropping the flows the new rules still allow, and [Gateway.Status]
// returns the flow table (5-tuple in and out, state, bytes and packets
// each way, age) and the counters of every rule. [Run] does all of it
// for a file, with the admin endpoint on a Unix socket that
// [AdminClient] talks to.
//
// Rules see a flow as it arrives: its protocol, its source address and
// port, and the port it was sent to. A [Ruleset] finds the first rule
// that matches in O(log n) of the number of rules.
//
// Being a user-space program, the gateway completes a TCP handshake
// before the rules see the flow: a denied connection is closed at once
// (the client sees it opened and closed, never a byte), a rejected one
// reset. The target sees the gateway's own address as the source
// (masquerade) unless the forward passes the client's on with PROXY
// protocol v2. Bytes between TCP sockets move by splice(2).
package gateway
