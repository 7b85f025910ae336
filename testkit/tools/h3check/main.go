// h3check makes one HTTP/3 (QUIC) request and prints the protocol, status and chosen headers.
// Node 20 has no HTTP/3 client and Debian's curl is built without HTTP/3, so the gateway tests
// use this to prove that Traefik really answers over QUIC, not just that it advertises Alt-Svc.
//
//	go run ./testkit/tools/h3check -url https://api.example.test:8443/echo/ -connect 127.0.0.1:8443 -ca ca.crt
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

type result struct {
	Proto   string              `json:"proto"`
	Status  int                 `json:"status"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

func main() {
	rawURL := flag.String("url", "", "URL to GET; its host is the SNI and :authority")
	connect := flag.String("connect", "", "UDP host:port to dial instead of the URL's host (no DNS needed)")
	caFile := flag.String("ca", "", "PEM CA bundle to verify the server against")
	timeout := flag.Duration("timeout", 10*time.Second, "overall deadline")
	flag.Parse()
	if err := run(*rawURL, *connect, *caFile, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "h3check:", err)
		os.Exit(1)
	}
}

func run(rawURL, connect, caFile string, timeout time.Duration) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" {
		return fmt.Errorf("-url must be an https URL: %q", rawURL)
	}
	tlsConf := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS13}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("no certificates in %s", caFile)
		}
		tlsConf.RootCAs = pool
	}
	tr := &http3.Transport{TLSClientConfig: tlsConf}
	if connect != "" {
		tr.Dial = func(ctx context.Context, _ string, tc *tls.Config, qc *quic.Config) (*quic.Conn, error) {
			return quic.DialAddr(ctx, connect, tc, qc)
		}
	}
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(result{resp.Proto, resp.StatusCode, resp.Header, string(body)})
}
