package main

import (
	"github.com/filecoin-project/go-address"
)

type AddressVector struct {
	String   string `json:"string"`
	Bytes    string `json:"bytes"`
	Protocol int    `json:"protocol"`
	Network  string `json:"network"`
	Note     string `json:"note,omitempty"`
}

type InvalidAddress struct {
	Input   string `json:"input"`
	GoError string `json:"goError"`
}

type AddressVectors struct {
	Valid         []AddressVector  `json:"valid"`
	InvalidString []InvalidAddress `json:"invalidStrings"`
	InvalidBytes  []InvalidAddress `json:"invalidBytes"`
}

func addressVector(a address.Address, network address.Network, note string) AddressVector {
	address.CurrentNetwork = network
	name := "mainnet"
	if network == address.Testnet {
		name = "testnet"
	}
	s := a.String()
	// The string must parse back to the same address, as the TS side checks too.
	back := must(address.NewFromString(s))
	if back != a {
		panic("address round trip: " + s)
	}
	return AddressVector{String: s, Bytes: h(a.Bytes()), Protocol: int(a.Protocol()), Network: name, Note: note}
}

func addressVectors(secp secpKey, bls blsKey) AddressVectors {
	defer func() { address.CurrentNetwork = address.Mainnet }()
	eth := must(hexBytes("d4c5fb16488aa48081296299d54b0c648c9333da"))
	type entry struct {
		addr address.Address
		note string
	}
	entries := []entry{
		{must(address.NewIDAddress(0)), "system actor"},
		{must(address.NewIDAddress(5)), "storage market actor"},
		{must(address.NewIDAddress(1000)), "first miner on a devnet"},
		{must(address.NewIDAddress(128)), "two-byte varint"},
		{must(address.NewIDAddress(123456789)), ""},
		{must(address.NewIDAddress(1<<63 - 1)), "largest ID"},
		{secp.address, "the fixed secp256k1 key of these vectors"},
		{must(address.NewSecp256k1Address(must(hexBytes("04" + repeat("11", 64))))), ""},
		{must(address.NewActorAddress([]byte("satoshi"))), "go-address TestAddress"},
		{must(address.NewActorAddress([]byte("nakamoto"))), "go-address TestAddress2"},
		{bls.address, "the fixed BLS key of these vectors"},
		{must(address.NewDelegatedAddress(10, eth)), "f410 (Ethereum address manager)"},
		{must(address.NewDelegatedAddress(10, make([]byte, 54))), "f410 with the longest sub-address"},
	}
	var out AddressVectors
	for _, e := range entries {
		out.Valid = append(out.Valid, addressVector(e.addr, address.Mainnet, e.note))
		out.Valid = append(out.Valid, addressVector(e.addr, address.Testnet, e.note))
	}

	good := secp.address.String()
	flipped := []byte(good)
	if flipped[len(flipped)-1] == 'a' {
		flipped[len(flipped)-1] = 'b'
	} else {
		flipped[len(flipped)-1] = 'a'
	}
	badStrings := []string{
		"f",
		"f0",
		"x01000",
		"F01000",
		"f51000",
		"f0-1",
		"f0abc",
		"f09223372036854775808",
		"f018446744073709551616",
		string(flipped),
		"f1" + upper(good[2:]),
		good[:len(good)-3],
		"f1" + "a" + good[2:],
		"f2aaaaaaa",
		bls.address.String()[:len(bls.address.String())-4],
		"f410",
		"f4" + "99999999999999999999" + "f" + "aaaa",
		"f410f" + repeat("a", 100),
		"f0" + repeat("1", 120),
	}
	for _, s := range badStrings {
		_, err := address.NewFromString(s)
		if err == nil {
			panic("go-address accepted " + s)
		}
		out.InvalidString = append(out.InvalidString, InvalidAddress{Input: s, GoError: err.Error()})
	}

	badBytes := []string{
		"00",
		"0080",
		"008000",
		"00ffffffffffffffff80",
		"01" + repeat("ab", 19),
		"01" + repeat("ab", 21),
		"02" + repeat("ab", 19),
		"03" + repeat("ab", 47),
		"04",
		"040a" + repeat("ab", 55),
		"05" + repeat("ab", 20),
	}
	for _, s := range badBytes {
		_, err := address.NewFromBytes(must(hexBytes(s)))
		if err == nil {
			panic("go-address accepted bytes " + s)
		}
		out.InvalidBytes = append(out.InvalidBytes, InvalidAddress{Input: s, GoError: err.Error()})
	}
	return out
}
