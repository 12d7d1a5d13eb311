
// Command pinset-get fetches a URL from a server of the site with pinsetpin.Client and
// writes the body to stdout; on a refusal it prints the reason and exits 1.
//
//	go run ./cmd/pinset-get https://HOST[:PORT]/PATH
package main

import (
	"fmt"
	"io"
	"os"

	"{{module}}"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pinset-get https://HOST[:PORT]/PATH")
		os.Exit(2)
	}
	url := os.Args[1]
	client, err := pinsetpin.Client()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pinset-get: %v\n", err)
		os.Exit(1)
	}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pinset-get: refused %s: %v\n", url, err)
		os.Exit(1)
	}
	_, err = io.Copy(os.Stdout, resp.Body)
	resp.Body.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pinset-get: %s: %v\n", url, err)
		os.Exit(1)
	}
	if resp.StatusCode >= 400 {
		fmt.Fprintf(os.Stderr, "pinset-get: %s: HTTP %s\n", url, resp.Status)
		os.Exit(1)
	}
}
