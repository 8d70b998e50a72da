package main

import (
	"encoding/hex"
	"strings"
)

func hexBytes(s string) ([]byte, error) { return hex.DecodeString(s) }

func repeat(s string, n int) string { return strings.Repeat(s, n) }

func upper(s string) string { return strings.ToUpper(s) }

// pattern is n deterministic bytes standing in for a proof or randomness: seed, seed+step, ...
func pattern(n int, seed, step byte) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = seed + byte(i)*step
	}
	return out
}
