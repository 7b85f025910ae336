package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/archive"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/asset"
)

func (p *provider) runLocal(ctx context.Context, urn string, inputs resource.PropertyMap, s spec) (outcome, error) {
	interp := []string{"/bin/sh", "-c"}
	if v := unsecret(inputs["interpreter"]); v.IsArray() && len(v.ArrayValue()) > 0 {
		interp = nil
		for _, e := range v.ArrayValue() {
			interp = append(interp, plainString(e))
		}
	}
	cmd := exec.CommandContext(ctx, interp[0], append(interp[1:], s.script)...)
	cmd.Dir = plainString(inputs["dir"])
	cmd.Env = append(os.Environ(), s.env...)
	if s.stdin != "" {
		cmd.Stdin = strings.NewReader(s.stdin)
	}
	var stdout, stderr bytes.Buffer
	var done func()
	cmd.Stdout, cmd.Stderr, done = p.outputs(ctx, urn, s, &stdout, &stderr)
	err := cmd.Run()
	done()
	res := outcome{stdout: stdout.String(), stderr: stderr.String(), exitCode: -1}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &exit):
		res.exitCode = exit.ExitCode()
		if res.exitCode < 0 {
			res.signal = exit.String()
		}
		return res, failure(s, "", res)
	}
	return res, fmt.Errorf("%s command could not be started (interpreter %q): %w", s.step, interp[0], err)
}

// collectAssets sets the `assets` and `archive` outputs from the assetPaths/archivePaths globs,
// matched against the files under the command's directory after it ran.
func collectAssets(inputs, outs resource.PropertyMap) error {
	assetGlobs, archiveGlobs := stringList(inputs["assetPaths"]), stringList(inputs["archivePaths"])
	if len(assetGlobs) == 0 && len(archiveGlobs) == 0 {
		return nil
	}
	dir := plainString(inputs["dir"])
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	var files []string
	err = filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(abs, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("collecting assetPaths/archivePaths under %s: %w", abs, err)
	}
	sort.Strings(files)
	pick := func(globs []string) (map[string]any, error) {
		rules, err := compileGlobs(globs)
		if err != nil {
			return nil, err
		}
		found := map[string]any{}
		for _, f := range files {
			if rules.match(f) {
				a, err := asset.FromPath(filepath.Join(abs, filepath.FromSlash(f)))
				if err != nil {
					return nil, err
				}
				found[f] = a
			}
		}
		return found, nil
	}
	if len(assetGlobs) > 0 {
		found, err := pick(assetGlobs)
		if err != nil {
			return fmt.Errorf("assetPaths: %w", err)
		}
		m := resource.PropertyMap{}
		for k, a := range found {
			m[resource.PropertyKey(k)] = resource.NewAssetProperty(a.(*asset.Asset))
		}
		outs["assets"] = resource.NewObjectProperty(m)
	}
	if len(archiveGlobs) > 0 {
		found, err := pick(archiveGlobs)
		if err != nil {
			return fmt.Errorf("archivePaths: %w", err)
		}
		ar, err := archive.FromAssets(found)
		if err != nil {
			return fmt.Errorf("archivePaths: %w", err)
		}
		outs["archive"] = resource.NewArchiveProperty(ar)
	}
	return nil
}

func stringList(v resource.PropertyValue) []string {
	v = unsecret(v)
	if !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if s := plainString(e); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// globRules are assetPaths/archivePaths patterns in the documented (gobwas/glob) syntax: `*` does
// not cross `/`, `**` does, `?`, `[...]`, `{a,b}`; a leading `!` excludes; the last rule that
// matches a path decides.
type globRules []struct {
	exclude bool
	re      *regexp.Regexp
}

func compileGlobs(globs []string) (globRules, error) {
	var rules globRules
	for _, g := range globs {
		exclude := strings.HasPrefix(g, "!")
		re, err := globRegexp(strings.TrimPrefix(g, "!"))
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", g, err)
		}
		rules = append(rules, struct {
			exclude bool
			re      *regexp.Regexp
		}{exclude, re})
	}
	return rules, nil
}

func (r globRules) match(path string) bool {
	in := false
	for _, rule := range r {
		if rule.re.MatchString(path) {
			in = !rule.exclude
		}
	}
	return in
}

func globRegexp(g string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	depth := 0 // inside {a,b}
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			if i+1 < len(g) && g[i+1] == '*' {
				b.WriteString(".*")
				i++
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			end := strings.IndexByte(g[i+1:], ']')
			if end < 0 {
				return nil, errors.New("unclosed [")
			}
			class := g[i+1 : i+1+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += end + 1
		case '{':
			depth++
			b.WriteString("(?:")
		case '}':
			if depth == 0 {
				return nil, errors.New("unmatched }")
			}
			depth--
			b.WriteString(")")
		case ',':
			if depth > 0 {
				b.WriteString("|")
			} else {
				b.WriteString(",")
			}
		case '\\':
			if i+1 < len(g) {
				i++
				b.WriteString(regexp.QuoteMeta(g[i : i+1]))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if depth != 0 {
		return nil, errors.New("unclosed {")
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}
