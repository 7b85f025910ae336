package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// InstallDependencies runs `npm install` unless node_modules is already present.
func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	dir := programDir(req.GetInfo(), req.GetDirectory())
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil {
		return nil
	}
	cmd := exec.CommandContext(server.Context(), "npm", "install")
	cmd.Dir = dir
	cmd.Stdout = &streamWriter{send: func(b []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b})
	}}
	cmd.Stderr = &streamWriter{send: func(b []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b})
	}}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install in %s: %w", dir, err)
	}
	return nil
}

// packageJSON is the part of a package.json this host reads.
type packageJSON struct {
	Name            string            `json:"name"`
	Version         string            `json:"version"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	Pulumi          struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

func readPackageJSON(path string) (*packageJSON, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p packageJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return &p, nil
}

// nodeModulesDir finds the node_modules directory that serves dir.
func nodeModulesDir(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if st, err := os.Stat(filepath.Join(d, "node_modules")); err == nil && st.IsDir() {
			return filepath.Join(d, "node_modules")
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// GetRequiredPackages lists the resource plugins named by installed packages whose package.json
// has `"pulumi": {"resource": true}` (top level of node_modules and one scope level down).
func (h *host) GetRequiredPackages(_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	nm := nodeModulesDir(programDir(req.GetInfo(), "."))
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	if nm == "" {
		return resp, nil
	}
	var dirs []string
	entries, _ := os.ReadDir(nm)
	for _, e := range entries {
		p := filepath.Join(nm, e.Name())
		if strings.HasPrefix(e.Name(), "@") {
			scoped, _ := os.ReadDir(p)
			for _, s := range scoped {
				dirs = append(dirs, filepath.Join(p, s.Name()))
			}
		} else if !strings.HasPrefix(e.Name(), ".") {
			dirs = append(dirs, p)
		}
	}
	for _, d := range dirs {
		pkg, err := readPackageJSON(filepath.Join(d, "package.json"))
		if err != nil || !pkg.Pulumi.Resource {
			continue
		}
		name := pkg.Pulumi.Name
		if name == "" {
			name = strings.TrimPrefix(strings.TrimPrefix(pkg.Name, "@pulumi/"), "@")
		}
		ver := pkg.Pulumi.Version
		if ver == "" {
			ver = pkg.Version
		}
		if ver != "" && !strings.HasPrefix(ver, "v") {
			ver = "v" + ver
		}
		resp.Packages = append(resp.Packages, &pulumirpc.PackageDependency{
			Kind: "resource", Name: name, Version: ver, Server: pkg.Pulumi.Server,
		})
	}
	return resp, nil
}

// GetRequiredPlugins is the older form of GetRequiredPackages.
func (h *host) GetRequiredPlugins(ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	pk, err := h.GetRequiredPackages(ctx, &pulumirpc.GetRequiredPackagesRequest{Info: req.GetInfo()})
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetRequiredPluginsResponse{}
	for _, p := range pk.GetPackages() {
		resp.Plugins = append(resp.Plugins, &pulumirpc.PluginDependency{
			Kind: p.GetKind(), Name: p.GetName(), Version: p.GetVersion(), Server: p.GetServer(),
		})
	}
	return resp, nil
}

// About reports the node executable and version (`pulumi about`).
func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node not found on PATH: %w", err)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{Executable: node, Version: strings.TrimSpace(string(out))}, nil
}

// GetProgramDependencies lists package.json dependencies with their installed versions.
func (h *host) GetProgramDependencies(_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := programDir(req.GetInfo(), req.GetProgram())
	pkg, err := readPackageJSON(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	nm := nodeModulesDir(dir)
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	add := func(deps map[string]string) {
		for name, want := range deps {
			ver := want
			if nm != "" {
				if dep, err := readPackageJSON(filepath.Join(nm, name, "package.json")); err == nil {
					ver = dep.Version
				}
			}
			resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: name, Version: ver})
		}
	}
	add(pkg.Dependencies)
	if req.GetTransitiveDependencies() {
		add(pkg.DevDependencies)
	}
	return resp, nil
}
