module lasp

go 1.26.8

require (
	github.com/yuin/gopher-lua v1.1.2 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/tools v0.52.0 // indirect
)
