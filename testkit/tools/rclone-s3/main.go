// rclone with only `serve s3` over the local backend: the S3-compatible server fjord's backup tests
// start on loopback. Upstream's main imports every backend and command (cloud SDKs, FUSE, the web
// GUI), which makes the build several times bigger for nothing here. Copied into the wrapper module
// by testkit/tools/s3.sh (go_tool_build's local main directory) and built against rclone's module.
package main

import (
	"github.com/rclone/rclone/cmd"

	_ "github.com/rclone/rclone/backend/local" // the bucket tree is a local directory
	_ "github.com/rclone/rclone/cmd/serve"     // registers `serve`
	_ "github.com/rclone/rclone/cmd/serve/s3"  // registers `serve s3`
	_ "github.com/rclone/rclone/cmd/version"   // `version`, which testkit/tools/s3.sh checks
)

func main() {
	cmd.Main()
}
