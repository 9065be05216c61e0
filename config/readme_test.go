package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's configuration table names every variable the proxy reads,
// and no variable it does not: the reference cannot drift from the code.
func TestREADMEConfigurationTable(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	inTable := map[string]bool{}
	row := regexp.MustCompile("^\\| (`XDRPROXY_[A-Z0-9_]+`(?: / `XDRPROXY_[A-Z0-9_]+`)*) \\|")
	name := regexp.MustCompile("XDRPROXY_[A-Z0-9_]+")
	for _, line := range strings.Split(string(data), "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			for _, n := range name.FindAllString(m[1], -1) {
				inTable[n] = true
			}
		}
	}
	for _, v := range Variables {
		if !inTable[v] {
			t.Errorf("README's configuration table has no row for %s", v)
		}
		delete(inTable, v)
	}
	for v := range inTable {
		t.Errorf("README's configuration table documents %s, which the proxy does not read", v)
	}
}
