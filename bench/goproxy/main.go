// goproxy is the gateway benchmark's reference for Go itself: the standard library's TLS server
// and reverse proxy with nothing else, keeping 64 upstream connections like the rendered gateways.
// Traefik is built from the same net/http and crypto/tls, so this is the floor any Go proxy pays
// per request on the machine; what Traefik spends above it is Traefik's own.
package main

import (
	"crypto/tls"
	"flag"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "host:port to serve HTTPS on")
	upstream := flag.String("upstream", "", "upstream base URL, e.g. http://127.0.0.1:8080")
	cert := flag.String("cert", "", "PEM certificate file")
	key := flag.String("key", "", "PEM private key file")
	flag.Parse()
	up, err := url.Parse(*upstream)
	if err != nil || up.Host == "" {
		log.Fatalf("-upstream %q is not a URL with a host", *upstream)
	}
	proxy := httputil.NewSingleHostReverseProxy(up)
	proxy.Transport = &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64}
	srv := &http.Server{
		Addr:      *listen,
		Handler:   proxy,
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12},
	}
	log.Fatal(srv.ListenAndServeTLS(*cert, *key))
}
