package netif

import "os"

// operState reads the kernel's operational state from sysfs.
func operState(name string) string {
	b, err := os.ReadFile("/sys/class/net/" + name + "/operstate")
	if err != nil {
		return ""
	}
	return normState(string(b))
}
