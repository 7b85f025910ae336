package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"gopkg.in/yaml.v3"
)

// config is the provider configuration that matters offline. Values arrive as strings: the engine
// passes `kubernetes:config:<key>` variables, and the SDK has already JSON-encoded the booleans.
type config struct {
	renderDir        string
	kubeconfig       string // path or contents; "" means the ambient kubeconfig
	namespace        string // default namespace for namespaced kinds without one
	serverSideApply  bool
	configMapMutable bool
	secretMutable    bool
	getenv           func(string) string // the environment the config was read with (tests swap it)
}

func (c config) render() bool { return c.renderDir != "" }

// configVars returns the provider inputs by plain key. Engines before `args` existed only sent
// variables; newer ones send both, and the variables are what the official provider reads.
func configVars(req *pulumirpc.ConfigureRequest) map[string]string {
	out := map[string]string{}
	for k, v := range req.GetVariables() {
		if i := strings.LastIndex(k, ":config:"); i >= 0 {
			k = k[i+len(":config:"):]
		}
		out[k] = v
	}
	if len(out) > 0 || req.GetArgs() == nil {
		return out
	}
	if args, err := unmarshal(req.GetArgs()); err == nil {
		for k, v := range plainMap(args) {
			if s, ok := v.(string); ok {
				out[string(k)] = s
			} else if v != nil {
				b, _ := json.Marshal(v)
				out[string(k)] = string(b)
			}
		}
	}
	return out
}

// parseConfig applies the official provider's precedence: provider input, then the PULUMI_K8S_*
// variable, then the default (server-side apply on since v4).
func parseConfig(vars map[string]string, getenv func(string) string) config {
	flag := func(key, env string, def bool) bool {
		if v, ok := vars[key]; ok && v != "" {
			return v == "true"
		}
		if v := getenv(env); v != "" {
			return v == "true"
		}
		return def
	}
	c := config{
		getenv:           getenv,
		renderDir:        vars["renderYamlToDirectory"],
		kubeconfig:       vars["kubeconfig"],
		serverSideApply:  flag("enableServerSideApply", "PULUMI_K8S_ENABLE_SERVER_SIDE_APPLY", true),
		configMapMutable: flag("enableConfigMapMutable", "PULUMI_K8S_ENABLE_CONFIGMAP_MUTABLE", false),
		secretMutable:    flag("enableSecretMutable", "PULUMI_K8S_ENABLE_SECRET_MUTABLE", false),
	}
	// Like client-go: the provider's namespace, else the current context's, else "default". The
	// official provider reads the ambient kubeconfig for this even in render mode, so do we.
	c.namespace = vars["namespace"]
	if c.namespace == "" {
		kc := loadKubeconfig(c.kubeconfig, getenv)
		if ctx := kc.context(vars["context"]); ctx != nil {
			c.namespace = ctx.Context.Namespace
		}
	}
	if c.namespace == "" {
		c.namespace = "default"
	}
	return c
}

// kubeconfig holds the parts of a kubeconfig that name the cluster and default namespace.
type kubeconfig struct {
	CurrentContext string        `yaml:"current-context"`
	Contexts       []kubeContext `yaml:"contexts"`
	Clusters       []struct {
		Name    string         `yaml:"name"`
		Cluster map[string]any `yaml:"cluster"`
	} `yaml:"clusters"`
}

type kubeContext struct {
	Name    string `yaml:"name"`
	Context struct {
		Cluster   string `yaml:"cluster"`
		Namespace string `yaml:"namespace"`
	} `yaml:"context"`
}

// loadKubeconfig reads a kubeconfig given as a path or as YAML/JSON contents; "" loads the ambient
// one ($KUBECONFIG's first readable file, else ~/.kube/config). Unreadable configs give nil: offline,
// a bad kubeconfig only matters to the cluster we never contact.
func loadKubeconfig(pathOrContents string, getenv func(string) string) *kubeconfig {
	home := getenv("HOME")
	expand := func(p string) string {
		if p == "~" {
			return home
		}
		if strings.HasPrefix(p, "~/") {
			return filepath.Join(home, p[2:])
		}
		return p
	}
	var data []byte
	if pathOrContents == "" {
		paths := filepath.SplitList(getenv("KUBECONFIG"))
		if len(paths) == 0 && home != "" {
			paths = []string{filepath.Join(home, ".kube", "config")}
		}
		for _, p := range paths {
			if b, err := os.ReadFile(expand(p)); err == nil {
				data = b
				break
			}
		}
	} else if !strings.Contains(pathOrContents, "\n") {
		if b, err := os.ReadFile(expand(pathOrContents)); err == nil {
			data = b
		}
	}
	if data == nil {
		data = []byte(pathOrContents)
	}
	var kc kubeconfig
	if len(data) == 0 || yaml.Unmarshal(data, &kc) != nil {
		return nil
	}
	return &kc
}

func (kc *kubeconfig) context(override string) *kubeContext {
	if kc == nil {
		return nil
	}
	name := kc.CurrentContext
	if override != "" {
		name = override
	}
	for i := range kc.Contexts {
		if kc.Contexts[i].Name == name {
			return &kc.Contexts[i]
		}
	}
	return nil
}

// activeCluster is the cluster entry the provider would talk to, nil when it cannot be resolved.
func (kc *kubeconfig) activeCluster(contextOverride, clusterOverride string) map[string]any {
	if kc == nil {
		return nil
	}
	name := clusterOverride
	if name == "" {
		ctx := kc.context(contextOverride)
		if ctx == nil {
			return nil
		}
		name = ctx.Context.Cluster
	}
	for _, c := range kc.Clusters {
		if c.Name == name {
			return c.Cluster
		}
	}
	return nil
}

// diffConfig decides when a provider change means a different cluster, which replaces every object
// it manages. As in the official provider: with a clusterIdentifier only a change of that identifier
// does; without one, an unknown kubeconfig/context/cluster or a different active cluster does; a new
// render directory always does (every manifest moves).
func diffConfig(olds, news resource.PropertyMap, getenv func(string) string) *pulumirpc.DiffResponse {
	str := func(m resource.PropertyMap, k resource.PropertyKey) string {
		v := m[k]
		if v.IsSecret() {
			v = v.SecretValue().Element
		}
		if v.IsString() {
			return v.StringValue()
		}
		if v.IsNull() || v.ContainsUnknowns() {
			return ""
		}
		b, _ := json.Marshal(v.Mappable())
		return string(b)
	}
	var diffs []string
	keys := map[resource.PropertyKey]bool{}
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	for k := range keys {
		o, n := olds[k], news[k]
		if n.ContainsUnknowns() || !o.DeepEquals(n) {
			diffs = append(diffs, string(k))
		}
	}
	sort.Strings(diffs)
	if len(diffs) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}
	}

	replaces := map[string]bool{}
	if newID := news["clusterIdentifier"]; newID.ContainsUnknowns() || str(news, "clusterIdentifier") != "" {
		oldID := str(olds, "clusterIdentifier")
		if oldID != "" && (newID.ContainsUnknowns() || oldID != str(news, "clusterIdentifier")) {
			for _, k := range diffs {
				replaces[k] = true
			}
		}
	} else {
		anyUnknown := false
		for _, k := range []resource.PropertyKey{"kubeconfig", "context", "cluster"} {
			if news[k].ContainsUnknowns() {
				replaces[string(k)], anyUnknown = true, true
			}
		}
		if !anyUnknown {
			oldCluster := loadKubeconfig(str(olds, "kubeconfig"), getenv).activeCluster(str(olds, "context"), str(olds, "cluster"))
			newCluster := loadKubeconfig(str(news, "kubeconfig"), getenv).activeCluster(str(news, "context"), str(news, "cluster"))
			if oldCluster != nil && newCluster != nil && !reflect.DeepEqual(oldCluster, newCluster) {
				for _, k := range diffs {
					replaces[k] = true
				}
			}
		}
	}
	if news["renderYamlToDirectory"].ContainsUnknowns() || str(olds, "renderYamlToDirectory") != str(news, "renderYamlToDirectory") {
		replaces["renderYamlToDirectory"] = true
	}
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: diffs}
	for _, k := range diffs {
		if replaces[k] {
			resp.Replaces = append(resp.Replaces, k)
		}
	}
	return resp
}
