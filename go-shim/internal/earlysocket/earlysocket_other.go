//go:build !linux

package earlysocket

// Corral runs plugins on Linux only; elsewhere (a plugin's author building
// or testing on another system) there is no socket made early: Take says
// so, and go-shim listens as it does without the variable.
