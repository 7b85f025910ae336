package main

import (
	"sort"

	"fjord.local/engine/providerkit"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

// Input keys by what a change to them does. rerun: the command runs again (update, or replace when
// there is no update command). replace: always a replacement. quiet: only the stored state changes,
// so editing a delete command or the logging mode re-runs nothing.
func rerunKeys(typ string) []string {
	switch typ {
	case localCommand:
		return []string{"archivePaths", "assetPaths", "create", "dir", "environment", "interpreter", "stdin", "update"}
	case remoteCommand:
		return []string{"create", "environment", "stdin", "update"}
	}
	return nil
}

func replaceKeys(typ string) []string {
	switch typ {
	case copyToRemote:
		return []string{"remotePath", "source", "triggers"}
	case copyFile:
		return []string{"localPath", "remotePath", "triggers"}
	}
	return []string{"triggers"}
}

func quietKeys(typ string) []string {
	if typ == localCommand || typ == remoteCommand {
		return []string{"addPreviousOutputInEnv", "delete", "logging"}
	}
	return nil
}

// connectionTarget is the part of a connection that says which machine runs the command: a change
// there replaces the resource (delete on the old host, create on the new one). Credentials, host
// key and dial settings can change without re-running anything.
func connectionTarget(v resource.PropertyValue) resource.PropertyValue {
	v = plainDeep(v)
	if !v.IsObject() {
		return v
	}
	pick := func(obj resource.PropertyMap) resource.PropertyMap {
		out := resource.PropertyMap{}
		for _, k := range []resource.PropertyKey{"host", "port", "user"} {
			if x, ok := obj[k]; ok && !x.IsNull() {
				out[k] = x
			}
		}
		return out
	}
	target := pick(v.ObjectValue())
	if proxy := v.ObjectValue()["proxy"]; proxy.IsObject() {
		target["proxy"] = resource.NewObjectProperty(pick(proxy.ObjectValue()))
	}
	return resource.NewObjectProperty(target)
}

// changed lists the keys whose values differ (secret or not; unknown counts as changed).
func changed(keys []string, olds, news resource.PropertyMap, ignore []string) []string {
	return providerkit.ChangedKeys(keys, plainMap(olds), plainMap(news), ignore)
}

func diff(typ string, olds, news resource.PropertyMap, ignore []string) *pulumirpc.DiffResponse {
	replaces := changed(replaceKeys(typ), olds, news, ignore)
	reruns := changed(rerunKeys(typ), olds, news, ignore)
	quiet := changed(quietKeys(typ), olds, news, ignore)
	if _, hasConn := news["connection"]; hasConn && !isIgnored("connection", ignore) {
		o, n := connectionTarget(olds["connection"]), connectionTarget(news["connection"])
		switch {
		case n.ContainsUnknowns() || !o.DeepEquals(n):
			replaces = append(replaces, "connection")
		case len(changed([]string{"connection"}, olds, news, nil)) > 0:
			quiet = append(quiet, "connection")
		}
	}
	update := news["update"]
	inPlace := update.IsComputed() || plainString(update) != ""
	if !inPlace {
		replaces, reruns = append(replaces, reruns...), nil
	}
	all := append(append(append([]string{}, replaces...), reruns...), quiet...)
	if len(all) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true}
	}
	sort.Strings(all)
	detailed := map[string]*pulumirpc.PropertyDiff{}
	for _, k := range all {
		detailed[k] = &pulumirpc.PropertyDiff{Kind: pulumirpc.PropertyDiff_UPDATE, InputDiff: true}
	}
	for _, k := range replaces {
		detailed[k].Kind = pulumirpc.PropertyDiff_UPDATE_REPLACE
	}
	sort.Strings(replaces)
	resp := &pulumirpc.DiffResponse{
		Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: all, DetailedDiff: detailed, HasDetailedDiff: true,
		Replaces: replaces,
	}
	// "Delete the old, then create the new": with create-before-delete the old resource's delete
	// command would run last and undo what the new create just did on the same machine.
	if len(replaces) > 0 && plainString(olds["delete"]) != "" {
		resp.DeleteBeforeReplace = true
	}
	return resp
}

func isIgnored(key string, ignore []string) bool {
	for _, k := range ignore {
		if k == key {
			return true
		}
	}
	return false
}

// plainDeep removes secret markers at every level, so a value compares equal to itself whether or
// not the program marked (a part of) it secret.
func plainDeep(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return plainDeep(v.SecretValue().Element)
	case v.IsObject():
		return resource.NewObjectProperty(plainMap(v.ObjectValue()))
	case v.IsArray():
		arr := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			arr[i] = plainDeep(e)
		}
		return resource.NewArrayProperty(arr)
	}
	return v
}

func plainMap(m resource.PropertyMap) resource.PropertyMap {
	out := make(resource.PropertyMap, len(m))
	for k, v := range m {
		out[k] = plainDeep(v)
	}
	return out
}

// unmarshalHashing is providerkit.Unmarshal plus hashing of assets that arrive without a hash, so
// a changed file behind an unchanged path is seen as a change.
func unmarshalHashing(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, plugin.MarshalOptions{
		KeepUnknowns: true, KeepSecrets: true, SkipNulls: true, ComputeAssetHashes: true,
	})
}
