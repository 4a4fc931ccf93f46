//go:build race

package framework

// raceEnabled: the race detector's shadow memory makes the process's RSS
// say little about what the server holds.
const raceEnabled = true
