module fjord.local/goproxy

go 1.25
