// Command xdrproxy is an authenticating reverse proxy for the Microsoft
// Defender XDR API: clients send plain HTTP naming a customer tenant, and
// xdrproxy forwards each request with an access token for that tenant.
//
// This package parses the subcommand and its flags and calls the package
// that does the work: server, demo, check or consent.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	err := execute(os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code, err = ee.Code, ee.Err
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "xdrproxy:", err)
	}
	os.Exit(code)
}
