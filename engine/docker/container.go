package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// containerArgs mirrors ContainerArgs of @pulumi/docker 5.2.0 (the part implemented here).
type containerArgs struct {
	Name, Image, Hostname, Domainname, User, WorkingDir string
	NetworkMode                                         string `json:"networkMode"`
	Command                                             []string
	Entrypoints                                         []string
	Envs                                                []string
	Labels                                              []label
	NetworksAdvanced                                    []struct {
		Name         string
		Aliases      []string
		Ipv4Address  string
		Ipv6Address  string
		MacAddress   string
		LinkLocalIps []string
	} `json:"networksAdvanced"`
	Ports []struct {
		Internal, External int
		IP                 string `json:"ip"`
		Protocol           string
	}
	Volumes []struct {
		VolumeName, HostPath, ContainerPath, FromContainer string
		ReadOnly                                           bool
	}
	Mounts []struct {
		Type, Target, Source string
		ReadOnly             bool
		BindOptions          *struct{ Propagation string }
		VolumeOptions        *struct {
			NoCopy        bool
			Labels        []label
			DriverName    string
			DriverOptions map[string]string
			Subpath       string
		}
		TmpfsOptions *struct {
			SizeBytes int64
			Mode      int64
		}
	}
	Uploads           []upload
	Memory            int64
	MemorySwap        int64
	MemoryReservation int64
	ShmSize           int64
	CPUShares         int64  `json:"cpuShares"`
	CPUSet            string `json:"cpuSet"`
	CPUs              string `json:"cpus"`
	CPUPeriod         int64  `json:"cpuPeriod"`
	CPUQuota          int64  `json:"cpuQuota"`
	Restart           string
	MaxRetryCount     int
	Healthcheck       *struct {
		Tests                                         []string
		Interval, Timeout, StartPeriod, StartInterval string
		Retries                                       int
	}
	Wait                bool
	WaitTimeout         *int
	MustRun             *bool
	Start               *bool
	ReadOnly            bool
	Tmpfs               map[string]string
	Capabilities        *struct{ Adds, Drops []string }
	SecurityOpts        []string
	Privileged          bool
	LogDriver           string
	LogOpts             map[string]string
	DestroyGraceSeconds int
	Rm                  bool
	Init                *bool
	Sysctls             map[string]string
	DNS                 []string `json:"dns"`
	DNSOpts             []string `json:"dnsOpts"`
	DNSSearches         []string `json:"dnsSearches"`
	Hosts               []struct{ Host, IP string }
	Ulimits             []struct {
		Name       string
		Soft, Hard int64
	}
	GroupAdds                                           []string
	IpcMode, PidMode, UsernsMode, CgroupnsMode, Runtime string
	StopSignal, CgroupParent, Platform                  string
	StopTimeout                                         *int
	PublishAllPorts, Tty, StdinOpen                     bool
	RemoveVolumes                                       *bool
	StorageOpts                                         map[string]string
	ContainerReadRefreshTimeoutMilliseconds             int
}

type upload struct {
	File, Content, ContentBase64, Source, SourceHash string
	Executable                                       bool
	Permissions, Owner, Group                        string
}

var containerKeys = set("name", "image", "hostname", "domainname", "user", "workingDir", "networkMode",
	"command", "entrypoints", "envs", "labels", "networksAdvanced", "ports", "volumes", "mounts", "uploads",
	"memory", "memorySwap", "memoryReservation", "shmSize", "cpuShares", "cpuSet", "cpus", "cpuPeriod",
	"cpuQuota", "restart", "maxRetryCount", "healthcheck", "wait", "waitTimeout", "mustRun", "start",
	"readOnly", "tmpfs", "capabilities", "securityOpts", "privileged", "logDriver", "logOpts",
	"destroyGraceSeconds", "rm", "init", "sysctls", "dns", "dnsOpts", "dnsSearches", "hosts", "ulimits",
	"groupAdds", "ipcMode", "pidMode", "usernsMode", "cgroupnsMode", "runtime", "stopSignal", "stopTimeout",
	"cgroupParent", "platform", "publishAllPorts", "tty", "stdinOpen", "removeVolumes", "storageOpts",
	"containerReadRefreshTimeoutMilliseconds")

// Sub-objects: only these fields are implemented (the rest is rejected by Check).
var containerSubKeys = map[string][]string{
	"networksAdvanced": {"name", "aliases", "ipv4Address", "ipv6Address", "macAddress", "linkLocalIps"},
	"ports":            {"internal", "external", "ip", "protocol"},
	"volumes":          {"volumeName", "hostPath", "containerPath", "fromContainer", "readOnly"},
	"mounts":           {"type", "target", "source", "readOnly", "bindOptions", "volumeOptions", "tmpfsOptions"},
	"uploads":          {"file", "content", "contentBase64", "source", "sourceHash", "executable", "permissions", "owner", "group"},
	"healthcheck":      {"tests", "interval", "timeout", "startPeriod", "startInterval", "retries"},
	"capabilities":     {"adds", "drops"},
	"hosts":            {"host", "ip"},
	"ulimits":          {"name", "soft", "hard"},
}

func (containerKind) check(news resource.PropertyMap) []*pulumirpc.CheckFailure {
	fails := checkKeys("Container", news, containerKeys)
	for prop, sub := range containerSubKeys {
		fails = append(fails, checkSubKeys("Container", prop, news[resource.PropertyKey(prop)], sub...)...)
	}
	if !isUnknown(news, "image") && !isSet(news["image"]) {
		fails = append(fails, failure("image", "Container.image is required"))
	}
	var a containerArgs
	if err := decode(news, &a); err != nil {
		return append(fails, failure("", "Container: "+err.Error()))
	}
	// Values that are still unknown were dropped by decode; check them when they are known.
	if !isUnknown(news, "uploads") {
		for _, u := range a.Uploads {
			if err := u.validate(); err != nil {
				fails = append(fails, failure("uploads", err.Error()))
			}
		}
	}
	if !isUnknown(news, "healthcheck") && a.Healthcheck != nil {
		for _, d := range []string{a.Healthcheck.Interval, a.Healthcheck.Timeout, a.Healthcheck.StartPeriod, a.Healthcheck.StartInterval} {
			if _, err := duration(d); err != nil {
				fails = append(fails, failure("healthcheck", err.Error()))
			}
		}
	}
	if !isUnknown(news, "cpus") && a.CPUs != "" {
		if _, err := strconv.ParseFloat(a.CPUs, 64); err != nil {
			fails = append(fails, failure("cpus", fmt.Sprintf("cpus %q is not a number", a.CPUs)))
		}
	}
	return fails
}

func (u upload) validate() error {
	n := 0
	for _, s := range []string{u.Content, u.ContentBase64, u.Source} {
		if s != "" {
			n++
		}
	}
	if n > 1 { // none is an empty file
		return fmt.Errorf("upload %s: set exactly one of content, contentBase64 or source", u.File)
	}
	if !strings.HasPrefix(u.File, "/") {
		return fmt.Errorf("upload %q: file must be an absolute path", u.File)
	}
	if u.Permissions != "" {
		if _, err := strconv.ParseUint(u.Permissions, 8, 32); err != nil {
			return fmt.Errorf("upload %s: permissions %q is not an octal mode", u.File, u.Permissions)
		}
	}
	for _, id := range []string{u.Owner, u.Group} {
		if _, err := strconv.Atoi(id); id != "" && err != nil {
			return fmt.Errorf("upload %s: owner/group %q must be numeric here", u.File, id)
		}
	}
	return nil
}

// duration parses the SDK's Go-duration strings; "" means the daemon's default.
func duration(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("healthcheck duration %q: %w", s, err)
	}
	return int64(d), nil
}

const mb = 1024 * 1024

// isUserNetwork says whether a network mode names a network (as opposed to a mode like host).
func isUserNetwork(mode string) bool {
	switch mode {
	case "", "default", "bridge", "host", "none":
		return false
	}
	return !strings.HasPrefix(mode, "container:")
}

// createBody is the body of POST /containers/create for API 1.41 and later. Networks beyond the
// first are connected after create: 1.41 accepts a single endpoint here.
func (a *containerArgs) createBody() (map[string]any, error) {
	cfg := map[string]any{
		"Image": a.Image, "Hostname": a.Hostname, "Domainname": a.Domainname, "User": a.User,
		"Env": a.Envs, "WorkingDir": a.WorkingDir, "Labels": labelMap(a.Labels),
		"Tty": a.Tty, "OpenStdin": a.StdinOpen, "StopSignal": a.StopSignal,
	}
	if len(a.Command) > 0 {
		cfg["Cmd"] = a.Command
	}
	if len(a.Entrypoints) > 0 {
		cfg["Entrypoint"] = a.Entrypoints
	}
	if a.StopTimeout != nil {
		cfg["StopTimeout"] = *a.StopTimeout
	}
	if h := a.Healthcheck; h != nil {
		hc := map[string]any{"Test": h.Tests, "Retries": h.Retries}
		for k, s := range map[string]string{"Interval": h.Interval, "Timeout": h.Timeout, "StartPeriod": h.StartPeriod, "StartInterval": h.StartInterval} {
			d, err := duration(s)
			if err != nil {
				return nil, err
			}
			if d != 0 {
				hc[k] = d
			}
		}
		cfg["Healthcheck"] = hc
	}
	exposed := map[string]any{}
	bindings := map[string][]map[string]string{}
	for _, p := range a.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		key := fmt.Sprintf("%d/%s", p.Internal, proto)
		exposed[key] = map[string]any{}
		ip := p.IP
		if ip == "" {
			ip = "0.0.0.0"
		}
		hostPort := ""
		if p.External != 0 {
			hostPort = strconv.Itoa(p.External)
		}
		bindings[key] = append(bindings[key], map[string]string{"HostIp": ip, "HostPort": hostPort})
	}
	if len(exposed) > 0 {
		cfg["ExposedPorts"] = exposed
	}
	host, err := a.hostConfig(bindings)
	if err != nil {
		return nil, err
	}
	body := map[string]any{}
	for k, v := range cfg {
		body[k] = v
	}
	body["HostConfig"] = host
	if isUserNetwork(a.NetworkMode) {
		ep := map[string]any{}
		for _, n := range a.NetworksAdvanced {
			if n.Name == a.NetworkMode {
				ep = endpoint(n.Aliases, n.Ipv4Address, n.Ipv6Address, n.MacAddress, n.LinkLocalIps)
			}
		}
		body["NetworkingConfig"] = map[string]any{"EndpointsConfig": map[string]any{a.NetworkMode: ep}}
	}
	anon := map[string]any{}
	for _, v := range a.Volumes {
		if v.VolumeName == "" && v.HostPath == "" && v.ContainerPath != "" {
			anon[v.ContainerPath] = map[string]any{}
		}
	}
	if len(anon) > 0 {
		body["Volumes"] = anon
	}
	return body, nil
}

func endpoint(aliases []string, v4, v6, mac string, linkLocal []string) map[string]any {
	ep := map[string]any{"Aliases": aliases}
	if v4 != "" || v6 != "" || len(linkLocal) > 0 {
		ep["IPAMConfig"] = map[string]any{"IPv4Address": v4, "IPv6Address": v6, "LinkLocalIPs": linkLocal}
	}
	if mac != "" {
		ep["MacAddress"] = mac
	}
	return ep
}

func (a *containerArgs) hostConfig(bindings map[string][]map[string]string) (map[string]any, error) {
	restart := a.Restart
	if restart == "" {
		restart = "no"
	}
	h := map[string]any{
		"NetworkMode": a.NetworkMode, "PortBindings": bindings, "PublishAllPorts": a.PublishAllPorts,
		"Privileged": a.Privileged, "ReadonlyRootfs": a.ReadOnly, "AutoRemove": a.Rm,
		"RestartPolicy": map[string]any{"Name": restart, "MaximumRetryCount": a.MaxRetryCount},
		"SecurityOpt":   a.SecurityOpts, "Tmpfs": a.Tmpfs, "Sysctls": a.Sysctls,
		"Dns": a.DNS, "DnsOptions": a.DNSOpts, "DnsSearch": a.DNSSearches, "GroupAdd": a.GroupAdds,
		"IpcMode": a.IpcMode, "PidMode": a.PidMode, "UsernsMode": a.UsernsMode, "CgroupnsMode": a.CgroupnsMode,
		"Runtime": a.Runtime, "StorageOpt": a.StorageOpts, "CgroupParent": a.CgroupParent,
		"CpuShares": a.CPUShares, "CpusetCpus": a.CPUSet, "CpuPeriod": a.CPUPeriod, "CpuQuota": a.CPUQuota,
		"Memory": a.Memory * mb, "MemoryReservation": a.MemoryReservation * mb, "ShmSize": a.ShmSize * mb,
		"LogConfig": map[string]any{"Type": a.LogDriver, "Config": a.LogOpts},
	}
	if a.MemorySwap > 0 {
		h["MemorySwap"] = a.MemorySwap * mb
	} else if a.MemorySwap < 0 {
		h["MemorySwap"] = -1 // unlimited swap, as upstream
	}
	if a.CPUs != "" {
		f, err := strconv.ParseFloat(a.CPUs, 64)
		if err != nil {
			return nil, fmt.Errorf("cpus %q is not a number", a.CPUs)
		}
		h["NanoCpus"] = int64(f * 1e9)
	}
	if a.Init != nil {
		h["Init"] = *a.Init
	}
	if c := a.Capabilities; c != nil {
		h["CapAdd"], h["CapDrop"] = c.Adds, c.Drops
	}
	var binds, from []string
	for _, v := range a.Volumes {
		src := v.VolumeName
		if src == "" {
			src = v.HostPath
		}
		switch {
		case v.FromContainer != "":
			from = append(from, v.FromContainer)
		case src != "":
			b := src + ":" + v.ContainerPath
			if v.ReadOnly {
				b += ":ro"
			}
			binds = append(binds, b)
		}
	}
	h["Binds"], h["VolumesFrom"] = binds, from
	var mounts []map[string]any
	for _, m := range a.Mounts {
		mt := map[string]any{"Type": m.Type, "Target": m.Target, "Source": m.Source, "ReadOnly": m.ReadOnly}
		if o := m.BindOptions; o != nil {
			mt["BindOptions"] = map[string]any{"Propagation": o.Propagation}
		}
		if o := m.VolumeOptions; o != nil {
			vo := map[string]any{"NoCopy": o.NoCopy, "Labels": labelMap(o.Labels), "Subpath": o.Subpath}
			if o.DriverName != "" || len(o.DriverOptions) > 0 {
				vo["DriverConfig"] = map[string]any{"Name": o.DriverName, "Options": o.DriverOptions}
			}
			mt["VolumeOptions"] = vo
		}
		if o := m.TmpfsOptions; o != nil {
			mt["TmpfsOptions"] = map[string]any{"SizeBytes": o.SizeBytes, "Mode": o.Mode}
		}
		mounts = append(mounts, mt)
	}
	h["Mounts"] = mounts
	var hosts []string
	for _, e := range a.Hosts {
		hosts = append(hosts, e.Host+":"+e.IP)
	}
	h["ExtraHosts"] = hosts
	var ulimits []map[string]any
	for _, u := range a.Ulimits {
		ulimits = append(ulimits, map[string]any{"Name": u.Name, "Soft": u.Soft, "Hard": u.Hard})
	}
	h["Ulimits"] = ulimits
	return h, nil
}

// resources is the body of POST /containers/{id}/update: the limits Docker changes in place.
func (a *containerArgs) resources() map[string]any {
	h, _ := a.hostConfig(nil)
	body := map[string]any{"RestartPolicy": h["RestartPolicy"]}
	for _, k := range []string{"Memory", "MemorySwap", "MemoryReservation", "NanoCpus", "CpuShares", "CpusetCpus", "CpuPeriod", "CpuQuota"} {
		if v, ok := h[k]; ok {
			body[k] = v
		}
	}
	return body
}
