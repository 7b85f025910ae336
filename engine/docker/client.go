package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

const defaultHost = "unix:///var/run/docker.sock"

// client talks to the Docker Engine API with net/http: the few endpoints fjord needs do not
// justify the docker/docker client's dependency graph (and its build time on every setup).
type client struct {
	host string // as configured, for messages
	base string // http://docker or http://h:p
	hc   *http.Client

	mu     sync.Mutex
	pinged bool
}

// apiError is a non-2xx answer of the daemon.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status) }

func isStatus(err error, code int) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == code
}

// resolveHost applies the documented precedence: provider config, DOCKER_HOST, the default socket.
func resolveHost(configured string) string {
	if configured != "" {
		return configured
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return defaultHost
}

func newClient(host string) (*client, error) {
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("fjord: docker host %q is not a URL: %w", host, err)
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{MaxIdleConnsPerHost: 8, IdleConnTimeout: 30 * time.Second}
	c := &client{host: host, hc: &http.Client{Transport: tr}}
	switch u.Scheme {
	case "unix":
		path := u.Path
		if path == "" {
			path = u.Opaque
		}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", path)
		}
		c.base = "http://docker"
	case "tcp", "http":
		if os.Getenv("DOCKER_TLS_VERIFY") != "" || os.Getenv("DOCKER_CERT_PATH") != "" {
			return nil, fmt.Errorf("fjord: TLS to the Docker daemon (DOCKER_TLS_VERIFY/DOCKER_CERT_PATH) is not supported by fjord's docker provider; use a unix socket or plain tcp://")
		}
		tr.DialContext = dialer.DialContext
		c.base = "http://" + u.Host
	default:
		return nil, fmt.Errorf("fjord: docker host %q: scheme %q is not supported by fjord's docker provider (unix:// or tcp://)", host, u.Scheme)
	}
	return c, nil
}

// daemonError means the daemon could not be reached at all. The provider returns it unwrapped,
// so every failing resource shows the same single line saying what to do.
type daemonError struct{ host, cause string }

func (e *daemonError) Error() string {
	return fmt.Sprintf("fjord: no Docker daemon at %s: %s; start Docker or set fjord:docker.host / DOCKER_HOST", e.host, e.cause)
}

// plainDaemonError returns err itself, or the daemonError it wraps.
func plainDaemonError(err error) error {
	var de *daemonError
	if errors.As(err, &de) {
		return de
	}
	return err
}

func (c *client) unreachable(err error) error {
	cause := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err.Error()
	}
	return &daemonError{host: c.host, cause: cause}
}

// ensure pings once per provider process, so every operation fails with the same clear line
// instead of a transport error in the middle of a multi-step create.
func (c *client) ensure(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pinged {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(pctx, http.MethodGet, c.base+"/_ping", nil)
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.unreachable(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return c.unreachable(fmt.Errorf("/_ping answered HTTP %d", resp.StatusCode))
	}
	c.pinged = true
	return nil
}

// do sends one request; body may be nil, an io.Reader (sent as is, e.g. a tar) or a value sent as
// JSON. out, when non-nil, receives the decoded JSON answer.
func (c *client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	if err := c.ensure(ctx); err != nil {
		return err
	}
	resp, err := c.raw(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// raw returns the open response of a 2xx answer; the caller closes its body.
func (c *client) raw(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, error) {
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd, ctype = b, "application/x-tar"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd, ctype = bytes.NewReader(buf), "application/json"
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		}
		return nil, c.unreachable(err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var m struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(msg, &m) != nil || m.Message == "" {
			m.Message = strings.TrimSpace(string(msg))
		}
		return nil, &apiError{Status: resp.StatusCode, Message: m.Message}
	}
	return resp, nil
}

// stream reads a JSON-message stream (image pull) and returns the first error it reports.
func stream(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
		if m.ErrorDetail.Message != "" {
			return errors.New(m.ErrorDetail.Message)
		}
	}
}

// pathEscape keeps the slashes of image references ("fjord/nginx:1"), which the daemon's router
// accepts, and escapes anything else a path cannot carry.
func pathEscape(s string) string { return (&url.URL{Path: s}).EscapedPath() }
