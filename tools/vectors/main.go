// Command vectors writes the golden vectors of src/core/chain as JSON on stdout: what the Filecoin Go
// modules produce for addresses, RLE+ bitfields, token amounts, miner-actor params, messages and their
// signatures. The TypeScript tests compare their own bytes with these, byte for byte.
//
//	cd tools/vectors && go run . > ../../tests/fixtures/vectors/chain.json
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
)

// Vectors is the whole file. Byte strings are lowercase hex; values inside params use "0x"-prefixed hex
// so the TypeScript test can tell bytes from CID and address strings.
type Vectors struct {
	About     string            `json:"about"`
	Modules   map[string]string `json:"modules"`
	Methods   map[string]uint64 `json:"methods"`
	Addresses AddressVectors    `json:"addresses"`
	Bitfields BitfieldVectors   `json:"bitfields"`
	Tokens    []TokenVector     `json:"tokens"`
	CommCids  []CommCidVector   `json:"commCids"`
	Params    []ParamsVector    `json:"params"`
	Messages  []MessageVector   `json:"messages"`
	Secp256k1 SecpVectors       `json:"secp256k1"`
	Bls       BlsVectors        `json:"bls"`
}

func h(b []byte) string { return hex.EncodeToString(b) }

// x is how bytes appear inside a params value: "0x" + hex.
func x(b []byte) string { return "0x" + hex.EncodeToString(b) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}

// modules names the version of every module the vectors come from (from the build info of this binary).
func modules() map[string]string {
	out := map[string]string{}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return out
	}
	for _, dep := range info.Deps {
		if strings.Contains(dep.Path, "filecoin-project/") || strings.HasSuffix(dep.Path, "go-cid") ||
			strings.HasSuffix(dep.Path, "cbor-gen") || strings.HasSuffix(dep.Path, "circl") ||
			strings.HasSuffix(dep.Path, "secp256k1-voi") {
			out[dep.Path] = dep.Version
		}
	}
	return out
}

func main() {
	secp := newSecpKey()
	bls := newBlsKey()
	params := paramsVectors()
	messages := messageVectors(secp, bls, params)
	v := Vectors{
		About:     "Golden vectors written by tools/vectors (go run .); do not edit by hand.",
		Modules:   modules(),
		Methods:   minerMethods(),
		Addresses: addressVectors(secp, bls),
		Bitfields: bitfieldVectors(),
		Tokens:    tokenVectors(),
		CommCids:  commCidVectors(),
		Params:    params,
		Messages:  messages,
		Secp256k1: secpVectors(secp, messages),
		Bls:       blsVectors(bls, messages),
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := must(indentShallow(buf.Bytes(), 3))
	_, err := os.Stdout.Write(out)
	check(err)
}
