//go:build !race

package pagelinks

const raceEnabled = false
