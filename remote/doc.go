// Package remote runs commands and moves files on other machines over SSH,
// behaving as OpenSSH does where its users expect it to: it reads
// ~/.ssh/config (Host patterns, HostName, User, Port, IdentityFile,
// ProxyJump chains, ConnectTimeout, UserKnownHostsFile,
// StrictHostKeyChecking), offers the agent's keys and the identity files,
// and checks host keys against known_hosts, hashed entries included,
// strictly unless told to accept new hosts.
//
// [Dial] resolves a destination through the configuration and connects,
// through every jump host in turn; [Client.Run] runs a command with the
// remote exit status passed back; [RunAll] runs one command on many hosts
// in parallel; [Client.Get] and [Client.Put] copy files and trees over SFTP
// with many requests in flight, into a temporary name first so that nothing
// partial is ever left under the final one; [Device] drives the
// interactive command line of a network device.
package remote
